"""The index on disk: records, generations (with the writer lock), and the vector stores.

``records`` holds the types every layer shares, ``generations`` writes and loads whole index
generations atomically, ``faiss_store`` / ``milvus`` hold the vectors, ``bm25`` places the keyword
index in a generation.
"""

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

__all__ = [
    "FORMAT_VERSION",
    "LEXICAL_DIR",
    "ChunkRecord",
    "DocRecord",
    "FaissVectorStore",
    "IndexSnapshot",
    "LexicalIndex",
    "Manifest",
    "PaperSource",
    "VectorStore",
    "empty_snapshot",
    "ivf_lists",
    "load_records",
    "load_snapshot",
    "make_manifest",
    "make_vector_store",
    "save_snapshot",
    "writer_lock",
]
