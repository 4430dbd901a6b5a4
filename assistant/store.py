"""The index on disk: FAISS vectors plus JSON metadata, written atomically, checked on load.

Layout: ``index/CURRENT`` names the live generation folder ``index/gen-*/`` holding
``manifest.json``, ``documents.json``, ``chunks.jsonl`` and ``vectors.faiss``. A save writes a
whole new generation to a temporary folder, fsyncs it, renames it, then atomically replaces
``CURRENT``; a crash at any point leaves the previous generation live and loadable. Nothing is
pickled: a user may hand us an index folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

from .errors import IndexIncompatibleError, IndexMissingError

FORMAT_VERSION = 1


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
    """What retrieval needs from a vector index; FAISS here, a server-side store elsewhere."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self, positions: np.ndarray | None = None) -> np.ndarray: ...

    @property
    def size(self) -> int: ...


class FaissVectorStore:
    """Positional FAISS index: row i is chunk i. Exact while small, HNSW when large."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    @classmethod
    def build(
        cls, vectors: np.ndarray, hnsw_threshold: int = 200_000, m: int = 32, ef_search: int = 128
    ) -> FaissVectorStore:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        index: faiss.Index
        if len(vectors) > hnsw_threshold:
            index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = ef_search
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return cls(index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self.index, faiss.IndexHNSWFlat) else "flat"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.size)
        if k <= 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        scores, ids = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return scores, ids

    def vectors(self, positions: np.ndarray | None = None) -> np.ndarray:
        if self.size == 0:
            return np.zeros((0, self.index.d), dtype=np.float32)
        if positions is None:
            return self.index.reconstruct_n(0, self.size)
        return np.stack([self.index.reconstruct(int(p)) for p in positions])

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> FaissVectorStore:
        return cls(faiss.read_index(str(path)))


@dataclass
class IndexSnapshot:
    """One loaded generation: immutable once built; ingest makes a new one."""

    manifest: dict[str, Any]
    documents: dict[str, DocRecord]
    chunks: list[ChunkRecord]
    store: FaissVectorStore
    path: Path | None = None

    @property
    def indexed_documents(self) -> list[DocRecord]:
        return [d for d in self.documents.values() if d.alias_of is None]


def empty_snapshot(dimension: int) -> IndexSnapshot:
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
        snapshot.store.save(tmp / "vectors.faiss")
        _fsync_path(tmp / "vectors.faiss")
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


def load_snapshot(index_dir: Path) -> IndexSnapshot:
    """Load the live generation; raise with the fix when it is missing or unreadable."""
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
        store = FaissVectorStore.load(gen / "vectors.faiss")
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
