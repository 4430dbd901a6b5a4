"""The index on disk: records, generations (with the writer lock), and the vector stores.

``records`` holds the types every layer shares, ``generations`` writes and loads whole index
generations atomically (``checksums`` finds damage, ``lock`` keeps one writer, ``recovery``
finds every paper again), ``faiss_store`` / ``milvus`` hold the vectors, ``bm25`` places the
keyword index in a generation.
"""

from .checksums import verify_generation
from .faiss_store import FaissVectorStore, ivf_lists
from .generations import (
    empty_snapshot,
    load_records,
    load_snapshot,
    make_manifest,
    make_vector_store,
    save_snapshot,
    writer_lock,
)
from .lock import LockOwner, read_owner
from .records import (
    FORMAT_VERSION,
    LEXICAL_DIR,
    ChunkRecord,
    DocRecord,
    IndexSnapshot,
    LexicalIndex,
    Manifest,
    PaperSource,
    VectorStore,
)
from .recovery import Recovery, recover, recovery_sources

__all__ = [
    "FORMAT_VERSION",
    "LEXICAL_DIR",
    "ChunkRecord",
    "DocRecord",
    "FaissVectorStore",
    "IndexSnapshot",
    "LexicalIndex",
    "LockOwner",
    "Manifest",
    "PaperSource",
    "Recovery",
    "VectorStore",
    "empty_snapshot",
    "ivf_lists",
    "load_records",
    "load_snapshot",
    "make_manifest",
    "make_vector_store",
    "read_owner",
    "recover",
    "recovery_sources",
    "save_snapshot",
    "verify_generation",
    "writer_lock",
]
