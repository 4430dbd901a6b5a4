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
import os
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from ..errors import IndexIncompatibleError, IndexMissingError
from .bm25 import save_lexical
from .faiss_store import FaissVectorStore
from .files import atomic_write_text, fsync, fsync_path, write_json
from .records import (
    FORMAT_VERSION,
    LEXICAL_DIR,
    ChunkRecord,
    DocRecord,
    IndexSnapshot,
    VectorStore,
)

if TYPE_CHECKING:
    from ..settings import Settings, StoreSettings


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
    from .. import __version__

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
        write_json(tmp / "manifest.json", snapshot.manifest)
        write_json(tmp / "documents.json", {k: asdict(v) for k, v in snapshot.documents.items()})
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in snapshot.chunks:
                f.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
            fsync(f)
        _save_vectors(snapshot.store, tmp)
        if snapshot.lexical is not None:
            save_lexical(snapshot.lexical, tmp / LEXICAL_DIR)
        fsync_path(tmp)
        final = index_dir / f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{tmp.name[-8:]}"
        os.rename(tmp, final)
        atomic_write_text(index_dir / "CURRENT", final.name + "\n")
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
        from .milvus import sync_store

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
        fsync_path(folder / "vectors.faiss")
    else:
        store.flush()  # type: ignore[attr-defined]


def _open_store(
    manifest: dict[str, Any],
    gen: Path,
    index_dir: Path,
    chunks: list[ChunkRecord],
    settings: StoreSettings | None,
) -> VectorStore:
    if manifest.get("store", {}).get("backend", "faiss") == "milvus":
        from .milvus import open_from_manifest

        return open_from_manifest(manifest, index_dir, [c.chunk_id for c in chunks], settings)
    return FaissVectorStore.load(gen / "vectors.faiss")


def _prune(index_dir: Path, keep: int, live: str) -> None:
    """Remove old generations beyond ``keep`` and temp folders of crashed writes."""
    gens = sorted(p for p in index_dir.glob("gen-*") if p.is_dir())
    for old in [g for g in gens if g.name != live][: max(0, len(gens) - keep)]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in index_dir.glob(".tmp-gen-*"):
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)
