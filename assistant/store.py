"""The index on disk: FAISS vectors plus JSON metadata, written atomically, checked on load.

Layout: ``index/CURRENT`` names the live generation folder ``index/gen-*/`` holding
``manifest.json``, ``documents.json``, ``chunks.jsonl``, ``vectors.faiss`` and ``bm25/`` (the
keyword index as bm25s writes it: JSON and ``.npy``, loaded memory-mapped). A save writes a
whole new generation to a temporary folder, fsyncs it, renames it, then atomically replaces
``CURRENT``; a crash at any point leaves the previous generation live and loadable. Nothing is
pickled: a user may hand us an index folder.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import faiss
import numpy as np

from .errors import IndexIncompatibleError, IndexMissingError
from .settings import StoreSettings

if TYPE_CHECKING:
    from .settings import Settings, StoreSettings

FORMAT_VERSION = 1
LEXICAL_DIR = "bm25"  # the keyword index inside a generation folder (optional: rebuilt if absent)
# A query-sized search runs on one OpenMP thread: beside torch's spinning threads, FAISS's two
# threads made a 20k-vector exact search take 9-16 ms at p50 instead of 1.05 ms (bench/).
_SMALL_BATCH = 8


@dataclass
class DocRecord:
    """Everything kept about one indexed (or aliased) paper."""

    doc_id: str
    path: str
    title: str
    content_hash: str
    kind: str = "txt"
    authors: list[str] = field(default_factory=list)
    affiliation: str = ""
    year: int | None = None
    clean_text: str = ""
    sections: list[list[Any]] = field(default_factory=list)  # [title, start, end]
    segments: list[list[int]] = field(default_factory=list)  # [clean_start, raw_start, length]
    references_raw_start: int | None = None
    minhash: list[int] = field(default_factory=list)
    quality: float = 0.0  # prefers the cleaner rendering as canonical
    alias_of: str | None = None  # set for a duplicate rendering: not indexed itself
    aliases: list[str] = field(default_factory=list)
    version_group: str | None = None
    version: str | None = None  # "earlier" | "revised" as the catalog states
    chunk_count: int = 0
    tokens: int = 0


@dataclass(frozen=True)
class ChunkRecord:
    chunk_id: str
    doc_id: str
    ordinal: int
    section: str
    text: str
    start: int
    end: int
    tokens: int


class VectorStore(Protocol):
    """What retrieval and ingest need from a vector index: FAISS here, a server-side store
    (a vector database) elsewhere. Row ``i`` is chunk ``i`` of the snapshot; vectors are
    L2-normalised, so scores are inner products. Retrieval uses only ``search``, ``vectors``
    and ``size``; ``make_vector_store`` (ingest) and ``_open_store`` (load) pick the backend.
    """

    @property
    def size(self) -> int: ...

    @property
    def kind(self) -> str: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self, positions: np.ndarray | None = None) -> np.ndarray: ...

    def describe(self, index_dir: Path) -> dict[str, Any]: ...


class LexicalIndex(Protocol):
    """A keyword index saved inside the generation folder beside the vectors (see retrieval)."""

    size: int

    def save(self, path: Path) -> None: ...


class FaissVectorStore:
    """Positional FAISS index: exact (flat) up to ``store.hnsw_threshold`` vectors, then IVF
    (or HNSW), with parameters chosen by the benchmark in bench/README.md.

    >>> store = FaissVectorStore.build(vectors, StoreSettings())
    >>> scores, rows = store.search(query_vectors, k=10)
    """

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray, settings: StoreSettings | None = None) -> FaissVectorStore:
        settings = settings or StoreSettings()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        index: faiss.Index
        if n <= settings.hnsw_threshold:
            index = faiss.IndexFlatIP(dim)
        elif settings.ann == "hnsw":
            index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = settings.hnsw_ef_search
        else:
            index = _trained_ivf(vectors, ivf_lists(n, settings), settings.ivf_nprobe)
        if n:
            index.add(vectors)
        return cls(index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> str:
        if isinstance(self.index, faiss.IndexHNSW):
            return "hnsw"
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.size)
        if k <= 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        with _faiss_threads(1 if len(queries) <= _SMALL_BATCH else None):
            scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

    def vectors(self, positions: np.ndarray | None = None) -> np.ndarray:
        if positions is None:
            if self.size == 0:
                return np.zeros((0, self.dimension), dtype=np.float32)
            return self.index.reconstruct_n(0, self.size)
        keys = np.ascontiguousarray(positions, dtype=np.int64)
        if len(keys) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.index.reconstruct_batch(keys)  # one C++ call, not a Python loop

    def extended(self, vectors: np.ndarray, settings: StoreSettings) -> FaissVectorStore:
        """A new store holding this one's rows then ``vectors``; this one is left untouched.

        When the index type the settings pick for the new size is this one's, the index is
        copied and the new rows added (an IVF keeps its trained lists); otherwise it is built
        again, so a corpus that outgrows exact search moves to an approximate index.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self._fits(self.size + len(vectors), settings):
            index = faiss.clone_index(self.index)
            if len(vectors):
                index.add(vectors)
            return FaissVectorStore(index)
        return FaissVectorStore.build(np.vstack([self.vectors(), vectors]), settings)

    def _fits(self, n: int, settings: StoreSettings) -> bool:
        if n <= settings.hnsw_threshold:
            return self.kind == "flat"
        if settings.ann == "hnsw":
            return self.kind == "hnsw"
        return self.kind == "ivf" and int(getattr(self.index, "nlist", 0)) == ivf_lists(n, settings)

    def describe(self, index_dir: Path) -> dict[str, Any]:
        """The manifest's ``store`` entry."""
        return {"backend": "faiss", "file": "vectors.faiss", "index": self.kind}

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> FaissVectorStore:
        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexIVF) and index.direct_map.type == 0:
            index.make_direct_map()  # an IVF written elsewhere: rows must be reconstructible
        return cls(index)


@contextmanager
def _faiss_threads(n: int | None) -> Iterator[None]:
    """OpenMP threads for FAISS calls made from this thread (None: leave as is)."""
    before = faiss.omp_get_max_threads()
    if n is None or n == before:
        yield
        return
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def ivf_lists(n: int, settings: StoreSettings) -> int:
    """IVF list count: the power of two nearest sqrt(n) (1024 at 1M), unless set."""
    if settings.ivf_nlist:
        return settings.ivf_nlist
    return int(2 ** round(math.log2(max(n, 1) ** 0.5)))


def _trained_ivf(vectors: np.ndarray, nlist: int, nprobe: int) -> faiss.IndexIVFFlat:
    """An empty IVF whose centroids are trained on a fixed-seed sample (50 per list)."""
    dim = vectors.shape[1]
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = min(len(vectors), nlist * 50)
    rows = np.random.default_rng(0).choice(len(vectors), sample, replace=False)
    index.train(vectors[np.sort(rows)])
    index.nprobe = nprobe
    index.make_direct_map()  # lets MMR and incremental ingest read rows back
    return index


@dataclass
class IndexSnapshot:
    """One loaded generation: immutable once built; ingest makes a new one.

    ``lexical`` is the keyword index: built by ingest and saved with the generation, or
    loaded (memory-mapped) from it by the retriever on first use.
    """

    manifest: dict[str, Any]
    documents: dict[str, DocRecord]
    chunks: list[ChunkRecord]
    store: VectorStore
    path: Path | None = None
    lexical: LexicalIndex | None = None

    @property
    def indexed_documents(self) -> list[DocRecord]:
        return [d for d in self.documents.values() if d.alias_of is None]


def empty_snapshot(dimension: int) -> IndexSnapshot:
    """No documents yet; its store grows by ``extended`` like any other."""
    return IndexSnapshot({}, {}, [], FaissVectorStore(faiss.IndexFlatIP(dimension)))


def make_manifest(
    *,
    embedder_name: str,
    dimension: int,
    max_seq_length: int,
    chunking: dict[str, Any],
    chunk_fingerprint: str,
    documents: dict[str, DocRecord],
    chunk_count: int,
    index_kind: str,
    store_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from . import __version__

    return {
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "embedding": {
            "model": embedder_name,
            "dimension": dimension,
            "max_seq_length": max_seq_length,
        },
        "chunking": {**chunking, "fingerprint": chunk_fingerprint},
        "files": {d.doc_id: d.content_hash for d in documents.values()},
        "chunk_count": chunk_count,
        "index_type": index_kind,
        "store": store_info or {"backend": "faiss", "file": "vectors.faiss"},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def save_snapshot(snapshot: IndexSnapshot, index_dir: Path, keep: int = 2) -> Path:
    """Write ``snapshot`` as a new generation and make it live, atomically."""
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-gen-", dir=index_dir))
    try:
        _write_json(tmp / "manifest.json", snapshot.manifest)
        _write_json(tmp / "documents.json", {k: asdict(v) for k, v in snapshot.documents.items()})
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in snapshot.chunks:
                f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
            _fsync(f)
        _save_vectors(snapshot.store, tmp)
        if snapshot.lexical is not None:
            _save_lexical(snapshot.lexical, tmp / LEXICAL_DIR)
        _fsync_path(tmp)
        final = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{tmp.name[-8:]}"
        os.rename(tmp, final)
        _atomic_write_text(index_dir / "CURRENT", final.name + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    snapshot.path = final
    _prune(index_dir, keep, final.name)
    return final


def load_snapshot(index_dir: Path, settings: StoreSettings | None = None) -> IndexSnapshot:
    """Load the live generation; raise with the fix when it is missing or unreadable.

    The vector store is the one the manifest records; ``settings`` give a Milvus token/URI.
    """
    current = index_dir / "CURRENT"
    if not current.is_file():
        raise IndexMissingError(f"no index at {index_dir}: run `assistant ingest` to build it")
    gen = index_dir / current.read_text(encoding="utf-8").strip()
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexIncompatibleError(
                f"index at {index_dir} has format {manifest.get('format_version')}, this version "
                f"reads {FORMAT_VERSION}: run `assistant ingest --rebuild`"
            )
        docs_raw = json.loads((gen / "documents.json").read_text(encoding="utf-8"))
        documents = {k: DocRecord(**v) for k, v in docs_raw.items()}
        with open(gen / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [ChunkRecord(**json.loads(line)) for line in f if line.strip()]
        store = _open_store(manifest, gen, index_dir, chunks, settings)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as e:
        raise IndexIncompatibleError(
            f"index at {gen} is unreadable ({type(e).__name__}: {e}): "
            "run `assistant ingest --rebuild`"
        ) from e
    if store.size != len(chunks):
        raise IndexIncompatibleError(
            f"index at {gen} holds {store.size} vectors for {len(chunks)} chunks: "
            "run `assistant ingest --rebuild`"
        )
    return IndexSnapshot(manifest, documents, chunks, store, gen)


def make_vector_store(
    settings: Settings,
    old: IndexSnapshot,
    keep_positions: list[int],
    chunks: list[ChunkRecord],
    new_vectors: np.ndarray,
    model: str,
    version_groups: dict[str, str | None],
) -> VectorStore:
    """The next generation's vectors: ``chunks`` = kept ones (``keep_positions`` in ``old``)
    then new ones. FAISS grows a copy of the old index when only papers were added, else
    rebuilds from the kept rows (read back in one call); Milvus updates its collection."""
    if settings.store.backend == "milvus":
        from .milvus_store import sync_store

        return sync_store(settings, old, keep_positions, chunks, new_vectors, model, version_groups)
    if isinstance(old.store, FaissVectorStore) and len(keep_positions) == len(old.chunks):
        # every old row kept in place (papers added): grow a copy, keep IVF training
        return old.store.extended(new_vectors, settings.store)
    kept = old.store.vectors(np.asarray(keep_positions, dtype=np.int64))
    return FaissVectorStore.build(np.vstack([kept, new_vectors]), settings.store)


def _save_vectors(store: VectorStore, folder: Path) -> None:
    """FAISS writes its file into the generation; a server-side store flushes instead."""
    if isinstance(store, FaissVectorStore):
        store.save(folder / "vectors.faiss")
        _fsync_path(folder / "vectors.faiss")
    else:
        store.flush()  # type: ignore[attr-defined]


def _save_lexical(lexical: LexicalIndex, folder: Path) -> None:
    lexical.save(folder)
    for part in folder.iterdir():
        _fsync_path(part)
    _fsync_path(folder)


def _open_store(
    manifest: dict[str, Any],
    gen: Path,
    index_dir: Path,
    chunks: list[ChunkRecord],
    settings: StoreSettings | None,
) -> VectorStore:
    if manifest.get("store", {}).get("backend", "faiss") == "milvus":
        from .milvus_store import open_from_manifest

        return open_from_manifest(manifest, index_dir, [c.chunk_id for c in chunks], settings)
    return FaissVectorStore.load(gen / "vectors.faiss")


def _write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        _fsync(f)


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        _fsync(f)
    os.replace(tmp, path)
    _fsync_path(path.parent)


def _fsync(f: Any) -> None:
    f.flush()
    os.fsync(f.fileno())


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(index_dir: Path, keep: int, live: str) -> None:
    """Remove old generations beyond ``keep`` and temp folders of crashed writes."""
    gens = sorted(p for p in index_dir.glob("gen-*") if p.is_dir())
    for old in [g for g in gens if g.name != live][: max(0, len(gens) - keep)]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in index_dir.glob(".tmp-gen-*"):
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)
