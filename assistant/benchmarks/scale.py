"""Search at scale: index types (build time, memory, latency, recall@10), BM25, persistence,
and the public API's latency on a synthetic corpus of ``n`` chunks (see ``synthetic``)."""

from __future__ import annotations

import gc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import faiss
import numpy as np

from ..core import Assistant
from ..embeddings import CachedEmbedder, Embedder
from ..retrieval import BM25Index
from ..settings import Settings, StoreSettings
from ..store import FaissVectorStore, IndexSnapshot, Manifest, make_manifest, save_snapshot
from ..store.sentences import DOCS_FILE, SPANS_FILE, VECTORS_FILE
from ._measure import latencies, peak_rss_mb, percentiles, rss_mb, timed
from .ingestion import make_model, serving_model
from .latency import query_latencies
from .synthetic import base_text, synthetic_corpus

T = TypeVar("T")
_RECALL_AT = 10
_ADDED = 200  # vectors appended in the incremental-ingest measurement (about one paper)
_TABLES = ("chunks.", "papers.", "tables.", "documents.")  # paper and chunk metadata files


def bench_scale(
    n: int,
    root: Path,
    settings: Settings,
    queries: int,
    recall_queries: int,
    ann_range: tuple[int, int],
    fake: bool = False,
    isolate: bool = True,
) -> dict[str, Any]:
    """Every figure for one corpus size; ``ann_range``: sizes at which IVF and HNSW are tried
    (from, HNSW up to); ``isolate``: measure serving memory in a fresh process."""
    model = make_model(settings, fake)
    base = base_text(settings, CachedEmbedder(model, root / "base-cache"))
    with timed() as made:
        corpus = synthetic_corpus(n, base)
    out: dict[str, Any] = {"chunks": n, "generate_s": round(made.seconds, 2)}
    qvecs = CachedEmbedder(model, root / "base-cache").embed(base.questions[:recall_queries])
    types, store = _index_types(
        corpus.vectors, qvecs, settings, ann_range, settings.retrieval.candidates
    )
    out["index_types"], out["index_type"] = types, store.kind
    out["incremental"] = _incremental(store, corpus.vectors[:_ADDED], settings.store)
    corpus.vectors = np.zeros((0, corpus.vectors.shape[1]), np.float32)  # free before BM25
    lexical, out["bm25"] = _bm25([c.text for c in corpus.chunks])
    manifest = _manifest(model, settings, corpus.documents, n, store.kind)
    snapshot = IndexSnapshot(
        manifest.model_copy(update={"sentence_count": corpus.sentences.size}),
        corpus.documents,
        corpus.chunks,
        store,
        lexical=lexical,
        sentences=corpus.sentences,
    )
    index_dir = root / f"scale-{n}" / "index"
    out["persist"] = _persist(snapshot, index_dir)
    del snapshot, corpus, store, lexical
    gc.collect()
    local = settings.with_updates(
        paths={"index_dir": index_dir, "cache_dir": root / f"scale-{n}" / "cache"}
    )
    export_dir = root / "onnx-cache"  # the question encoder's export, made once per bench
    serving = serving_model(settings, export_dir, fake, torch_model=model)
    serving.embed(["make the export before anything is timed"])
    out["serve"] = _in_fresh_process(
        isolate, serve_probe, local, base.questions[-1], fake, export_dir
    )
    with timed() as load:
        bot = Assistant.load(
            local, embedder=CachedEmbedder(serving, local.paths.cache_dir), build=False
        )
    out["persist"]["load_s"] = round(load.seconds, 2)
    out["bm25"]["load_s"] = _bm25_load_s(index_dir, n)
    out["search"] = query_latencies(bot, serving, base.questions, queries)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def serve_probe(settings: Settings, question: str, fake: bool, export_dir: Path) -> dict[str, Any]:
    """What a fresh process serving the saved index takes: load, one answer, resident memory
    (questions encoded as ``Assistant.load()`` does: the ONNX export, no torch)."""
    model = serving_model(settings, export_dir, fake)
    embedder = CachedEmbedder(model, settings.paths.cache_dir)
    with timed() as load:
        bot = Assistant.load(settings, embedder=embedder, build=False)
    with timed() as first:
        bot.ask(question)
    return {
        "load_s": round(load.seconds, 2),
        "first_ask_s": round(first.seconds, 2),
        "rss_mb": rss_mb(),
        "peak_rss_mb": peak_rss_mb(),
    }


def _in_fresh_process(isolate: bool, fn: Callable[..., T], *args: Any) -> T:
    if not isolate:
        return fn(*args)
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def _index_types(
    vectors: np.ndarray,
    qvecs: np.ndarray,
    settings: Settings,
    ann_range: tuple[int, int],
    k: int,
) -> tuple[dict[str, Any], FaissVectorStore]:
    """Flat (the ground truth), then IVF and HNSW where tried; keeps the one the policy picks."""
    n = len(vectors)
    policy = "flat" if n <= settings.store.hnsw_threshold else settings.store.ann
    kinds = ["flat"]
    if n >= ann_range[0]:
        kinds.append("ivf")
        if n <= ann_range[1]:
            kinds.append("hnsw")
    if policy not in kinds:
        kinds.append(policy)
    rows: dict[str, Any] = {}
    truth: list[np.ndarray] = []
    kept: FaissVectorStore | None = None
    for kind in kinds:
        store, row = _build(vectors, _forced(settings.store, kind, n))
        found, seconds = _search_each(store, qvecs, k)
        if kind == "flat":
            truth = found
        row.update(percentiles(seconds))
        row["recall_at_10"] = _recall(found, truth)
        rows[kind] = row
        if kind == policy:
            kept = store
        del store
        gc.collect()
    assert kept is not None
    return rows, kept


def _forced(store: StoreSettings, kind: str, n: int) -> StoreSettings:
    """Store settings that make ``FaissVectorStore.build`` pick ``kind`` for ``n`` vectors."""
    if kind == "flat":
        return store.model_copy(update={"hnsw_threshold": max(n, store.hnsw_threshold)})
    return store.model_copy(
        update={"hnsw_threshold": min(n - 1, store.hnsw_threshold), "ann": kind}
    )


def _build(vectors: np.ndarray, settings: StoreSettings) -> tuple[FaissVectorStore, dict[str, Any]]:
    before = rss_mb()
    with timed() as t:
        store = FaissVectorStore.build(vectors, settings)
    row: dict[str, Any] = {
        "build_s": round(t.seconds, 2),
        "memory_mb": round(_index_bytes(store.index) / 2**20, 1),
        "rss_delta_mb": round(rss_mb() - before, 1),
        "params": _params(store.index),
    }
    return store, row


def _search_each(
    store: FaissVectorStore, qvecs: np.ndarray, k: int
) -> tuple[list[np.ndarray], list[float]]:
    """One query at a time, as retrieval searches: the ids found and the seconds each took."""
    found: list[np.ndarray] = []

    def one(q: np.ndarray) -> None:
        found.append(store.search(q[None, :], k)[1][0])

    return found, latencies(one, qvecs)


def _recall(found: list[np.ndarray], truth: list[np.ndarray]) -> float:
    hits = [
        len(set(f[:_RECALL_AT].tolist()) & set(t[:_RECALL_AT].tolist())) / _RECALL_AT
        for f, t in zip(found, truth, strict=True)
    ]
    return round(float(np.mean(hits)), 4) if hits else float("nan")


def _index_bytes(index: faiss.Index) -> int:
    """What the index holds in RAM: vectors plus its structure (lists, graph, id maps)."""
    n, d = int(index.ntotal), int(index.d)
    if isinstance(index, faiss.IndexIVF):
        return n * (4 * d + 8) + int(index.nlist) * 4 * d + (8 * n if index.direct_map.type else 0)
    if isinstance(index, faiss.IndexHNSW):
        graph: Any = index.hnsw
        return n * 4 * d + 4 * graph.neighbors.size() + 4 * graph.levels.size() + 8 * (n + 1)
    return n * 4 * d


def _params(index: faiss.Index) -> str:
    if isinstance(index, faiss.IndexIVF):
        return f"nlist={index.nlist} nprobe={index.nprobe}"
    if isinstance(index, faiss.IndexHNSW):
        graph: Any = index.hnsw
        return f"M={graph.nb_neighbors(1)} efSearch={graph.efSearch}"
    return "exact"


def _incremental(
    store: FaissVectorStore, added: np.ndarray, settings: StoreSettings
) -> dict[str, Any]:
    """Adding a paper: grow a copy of the index, against reading every row back to rebuild."""
    with timed() as grow:
        store.extended(added, settings)
    with timed() as read_all:
        store.vectors()
    return {
        "added": len(added),
        "extend_s": round(grow.seconds, 3),
        "read_back_all_s": round(read_all.seconds, 3),
    }


def _bm25(texts: list[str]) -> tuple[BM25Index, dict[str, Any]]:
    before = rss_mb()
    with timed() as t:
        index = BM25Index(texts)
    return index, {"build_s": round(t.seconds, 2), "rss_delta_mb": round(rss_mb() - before, 1)}


def _bm25_load_s(index_dir: Path, n: int) -> float:
    gen = index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    with timed() as t:
        BM25Index.load(gen / "bm25", n)
    return round(t.seconds, 4)


def _persist(snapshot: IndexSnapshot, index_dir: Path) -> dict[str, Any]:
    with timed() as t:
        gen = save_snapshot(snapshot, index_dir)
    sizes = {p.name: p.stat().st_size for p in gen.iterdir() if p.is_file()}
    bm25 = sum(p.stat().st_size for p in (gen / "bm25").iterdir())
    return {
        "save_s": round(t.seconds, 2),
        "disk_mb": round((sum(sizes.values()) + bm25) / 2**20, 1),
        "vectors_mb": round(sizes.get("vectors.faiss", 0) / 2**20, 1),
        "metadata_mb": round(sum(v for k, v in sizes.items() if k.startswith(_TABLES)) / 2**20, 1),
        "bm25_mb": round(bm25 / 2**20, 1),
        "sentences_mb": round(
            (sizes.get(VECTORS_FILE, 0) + sizes.get(SPANS_FILE, 0) + sizes.get(DOCS_FILE, 0))
            / 2**20,
            1,
        ),
        "sentences": snapshot.sentences.size if snapshot.sentences is not None else 0,
    }


def _manifest(
    model: Embedder, settings: Settings, documents: dict[str, Any], n: int, kind: str
) -> Manifest:
    return make_manifest(
        embedder_name=model.name,
        dimension=model.dimension,
        max_seq_length=model.max_seq_length,
        chunking=settings.chunking.model_dump(),
        chunk_fingerprint=settings.chunking.fingerprint(),
        documents=documents,
        chunk_count=n,
        index_kind=kind,
    )
