"""Index generations on disk: written atomically by one writer at a time, loaded by anyone.

Layout: ``index/CURRENT`` names the live generation folder ``index/gen-*/`` holding
``manifest.json``, the paper and chunk tables (``papers.json``, ``chunks.jsonl``... read on
demand, see ``chunk_table``), ``vectors.faiss`` and ``bm25/`` (the keyword index as bm25s
writes it: JSON and ``.npy``, loaded memory-mapped). Format-2 generations (``documents.json``
and ``chunks.jsonl`` parsed whole) still load. A save writes a whole new generation to a
temporary folder, fsyncs it, renames it, then atomically replaces ``CURRENT``; a crash at
any point, or a full disk, leaves the previous generation live and loadable. Nothing is
pickled: a user may hand us an index folder.

Writers (CLI, API, UI, in any process) take ``writer_lock`` (``lock``) around read-base → build
→ save, so two ingests never build from the same base and drop each other's papers. Readers
take no lock: a generation never changes once ``CURRENT`` names it. Each generation carries
``checksums.json`` (``checksums``), checked cheaply at load. When ``CURRENT`` is lost or names a
damaged generation, the newest intact one loads instead and says so; nothing is rebuilt, and a
writer recovers every paper the damaged one listed (``recovery``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np
from pydantic import ValidationError

from ..errors import (
    IndexDamagedError,
    IndexIncompatibleError,
    IndexMissingError,
    IndexWriteError,
)
from .bm25 import save_lexical
from .checksums import verify_generation, write_checksums
from .chunk_table import read_tables, write_tables
from .current import generations as generations  # re-exported, as before
from .current import live_generation as live_generation
from .faiss_store import FaissVectorStore
from .files import atomic_write_text, fsync_path, is_disk_full, publish, write_json
from .lock import WRITER_LOCK as WRITER_LOCK  # re-exported: writers import them from here
from .lock import writer_lock as writer_lock
from .records import (
    FORMAT_VERSION,
    LEXICAL_DIR,
    ChunkRecord,
    DocRecord,
    EmbeddingInfo,
    IndexSnapshot,
    Manifest,
    PaperEntry,
    VectorStore,
)
from .sentences import load_table, save_table

if TYPE_CHECKING:
    from ..settings import Settings, StoreSettings

_TABLELESS = 2  # the format before chunk tables: still read, the old way
_REBUILD = "run `assistant ingest --rebuild` (papers given by path or upload are kept)"


def empty_snapshot(dimension: int) -> IndexSnapshot:
    """No documents yet; its store grows by ``extended`` like any other."""
    return IndexSnapshot(None, {}, [], FaissVectorStore(faiss.IndexFlatIP(dimension)))


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
) -> Manifest:
    from .._version import __version__

    return Manifest(
        format_version=FORMAT_VERSION,
        package_version=__version__,
        embedding=EmbeddingInfo(
            model=embedder_name, dimension=dimension, max_seq_length=max_seq_length
        ),
        chunking={**chunking, "fingerprint": chunk_fingerprint},
        papers={
            d.doc_id: PaperEntry(content_hash=d.content_hash, source=d.source, path=d.path)
            for d in documents.values()
        },
        chunk_count=chunk_count,
        index_type=index_kind,
        store=store_info or {"backend": "faiss", "file": "vectors.faiss"},
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def save_snapshot(snapshot: IndexSnapshot, index_dir: Path, keep: int = 3) -> Path:
    """Write ``snapshot`` as a new generation and make it live, atomically.

    Call it holding ``writer_lock``. Files are 0644 and folders 0755 whatever the umask of
    ``mkdtemp``, so an index built by one user can be read by others. A full disk (however the
    library that was writing says so) raises ``IndexWriteError`` with nothing changed: the
    partial generation is removed and the live one stays live.
    """
    if snapshot.manifest is None:
        raise ValueError("a snapshot without a manifest cannot be saved")
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-gen-", dir=index_dir))
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time_ns() % 10**9:09d}"
    final = index_dir / f"gen-{stamp}-{tmp.name[-8:]}"
    try:
        manifest = snapshot.manifest.model_copy(update={"format_version": FORMAT_VERSION})
        write_json(tmp / "manifest.json", manifest.model_dump(mode="json"))  # the format written
        write_tables(snapshot.documents, snapshot.chunks, tmp)
        _save_vectors(snapshot.store, tmp)
        save_table(snapshot.sentences, tmp)
        if snapshot.lexical is not None:
            save_lexical(snapshot.lexical, tmp / LEXICAL_DIR)
        write_checksums(tmp)  # last: it describes every file above
        publish(tmp)
        fsync_path(tmp)
        os.rename(tmp, final)
        atomic_write_text(index_dir / "CURRENT", final.name + "\n")
    except BaseException as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if final.exists() and live_generation(index_dir) != final.name:
            shutil.rmtree(final, ignore_errors=True)  # renamed but never made live
        if is_disk_full(e):
            raise IndexWriteError(
                f"disk full while writing the index at {index_dir}: free space and run the "
                "command again (nothing was changed)"
            ) from e
        raise
    snapshot.path = final
    snapshot.notice = None
    _prune(index_dir, keep, final.name)
    return final


def make_live(snapshot: IndexSnapshot, index_dir: Path) -> None:
    """Point ``CURRENT`` at an already complete generation (after a recovery)."""
    if snapshot.path is not None:
        atomic_write_text(index_dir / "CURRENT", snapshot.path.name + "\n")
        snapshot.notice = None


def load_snapshot(
    index_dir: Path, settings: StoreSettings | None = None, *, full_verify: bool = False
) -> IndexSnapshot:
    """Load the live generation, else the newest intact one (with a notice saying so).

    Raise with the fix when there is none. The vector store is the one the manifest records;
    ``settings`` give a Milvus token/URI. Each generation is also checked against its
    checksums (sizes, small files whole, big ones sampled; ``full_verify``: every byte, for a
    writer about to build on it or ``index-info --verify``): a damaged one is skipped.
    """
    live = live_generation(index_dir)
    gens = generations(index_dir)
    if live is None and not gens:
        raise IndexMissingError(f"no index at {index_dir}: run `assistant ingest` to build it")
    first: IndexIncompatibleError | None = None
    if live is not None:
        try:
            return _load_generation(index_dir / live, index_dir, settings, full_verify)
        except IndexIncompatibleError as e:
            first = e
    for gen in gens:
        if gen.name == live:
            continue
        try:
            snap = _load_generation(gen, index_dir, settings, full_verify)
        except IndexIncompatibleError as e:
            first = first or e
            continue
        why = (
            f"the live generation is unreadable ({str(first).split(': run `')[0]})"
            if first is not None
            else "index/CURRENT is missing"
        )
        snap.notice = (
            f"{why}; loaded {gen.name}, the newest complete generation "
            "(`assistant ingest` makes it live again)"
        )
        return snap
    assert first is not None  # there was a live name or a generation, and none loaded
    raise first


def load_records(index_dir: Path) -> dict[str, DocRecord]:
    """The paper records a rebuild starts from: each paper the newest generation lists, from
    the newest generation whose paper tables hold it intact (see ``recovery.recover``, which
    also says which papers to re-read from their files and which are lost)."""
    from .recovery import recover  # recovery reads generations: imported when needed

    return recover(index_dir).records


def _load_generation(
    gen: Path, index_dir: Path, settings: StoreSettings | None, full_verify: bool = False
) -> IndexSnapshot:
    try:
        raw = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        version = raw.get("format_version") if isinstance(raw, dict) else None
        if version not in (FORMAT_VERSION, _TABLELESS):
            raise IndexIncompatibleError(
                f"index at {gen} has format {version}, this version reads {FORMAT_VERSION}: "
                f"{_REBUILD}"
            )
        manifest = Manifest.model_validate(raw)
        documents, chunks = read_tables(gen) if version == FORMAT_VERSION else _read_json(gen)
        store = _open_store(manifest, gen, index_dir, chunks, settings)
        sentences = load_table(gen, manifest, getattr(store, "dimension", None))
    except IndexDamagedError:
        raise
    except IndexIncompatibleError as e:  # a row that does not parse: name the damaged file
        _raise_if_damaged(gen, full_verify, e)
        raise
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "manifest"
        raise IndexIncompatibleError(
            f"index manifest {gen / 'manifest.json'} is invalid at {where!r} "
            f"({err['msg']}): {_REBUILD}"
        ) from e
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RuntimeError) as e:
        _raise_if_damaged(gen, full_verify, e)
        raise IndexIncompatibleError(
            f"index at {gen} is unreadable ({type(e).__name__}: {str(e).strip()[:200]}): {_REBUILD}"
        ) from e
    dimension = getattr(store, "dimension", manifest.embedding.dimension)
    if dimension != manifest.embedding.dimension:
        raise IndexIncompatibleError(
            f"index at {gen} holds {dimension}-d vectors but its manifest says "
            f"{manifest.embedding.dimension}-d: {_REBUILD}"
        )
    if store.size != len(chunks) or manifest.chunk_count != len(chunks):
        raise IndexIncompatibleError(
            f"index at {gen} holds {store.size} vectors for {len(chunks)} chunks: {_REBUILD}"
        )
    # last, so a file that disagrees with another is named as such: IndexDamagedError when a
    # file changed since it was written (the caller then tries an older generation); format 2
    # had no checksums
    if manifest.format_version == FORMAT_VERSION:
        verify_generation(gen, full=full_verify)
    return IndexSnapshot(manifest, documents, chunks, store, gen, sentences=sentences)


def _raise_if_damaged(gen: Path, full: bool, e: Exception) -> None:
    """A file that does not read because it changed since it was written is named as such.

    Not the manifest: what it says is validated and compared with the files, and that
    message (another format, a count that disagrees) says more than "it changed".
    """
    try:
        verify_generation(gen, full=full, skip=("manifest.json",))
    except IndexDamagedError as damaged:
        raise damaged from e


def _read_json(gen: Path) -> tuple[dict[str, DocRecord], list[ChunkRecord]]:
    """A format-2 generation: every paper and chunk parsed from JSON at load."""
    docs_raw = json.loads((gen / "documents.json").read_text(encoding="utf-8"))
    documents = {k: DocRecord(**v) for k, v in docs_raw.items()}
    with open(gen / "chunks.jsonl", encoding="utf-8") as f:
        chunks = [ChunkRecord(**json.loads(line)) for line in f if line.strip()]
    return documents, chunks


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
    manifest: Manifest,
    gen: Path,
    index_dir: Path,
    chunks: Sequence[ChunkRecord],
    settings: StoreSettings | None,
) -> VectorStore:
    if manifest.backend == "milvus":
        from .milvus import open_from_manifest

        return open_from_manifest(
            manifest.model_dump(), index_dir, [c.chunk_id for c in chunks], settings
        )
    return FaissVectorStore.load(gen / "vectors.faiss")


def _prune(index_dir: Path, keep: int, live: str) -> None:
    """Keep the live generation and the newest others up to ``keep`` in all; drop temp
    folders of crashed writes (an hour old: a writer holds the lock while it writes)."""
    older = [g for g in generations(index_dir) if g.name != live]
    for old in older[max(0, keep - 1) :]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in index_dir.glob(".tmp-gen-*"):
        try:
            if time.time() - tmp.stat().st_mtime > 3600:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError:
            continue
