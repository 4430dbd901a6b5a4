"""Ingestion throughput: the whole pipeline against the bare model on the same texts.

Cold: empty embedding cache and index (load, clean, dedup, chunk, embed the chunks and their
sentences, BM25, save). Warm: cache filled, index rebuilt (``assistant ingest --rebuild``).
Raw: ``SentenceTransformer.encode`` over the very texts the pipeline embedded, same batch
size and threads: one call over the chunk texts plus one over the distinct sentence texts
(ingest embeds every sentence for the answerer since issue 15, so ``ratio_cold`` counts both;
``raw_chunks_s`` alone is what the ratio was measured against before). The model is loaded
before any timing, and its load time reported on its own.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..chunking import embed_text, token_encoding
from ..embeddings import (
    CachedEmbedder,
    Embedder,
    HashEmbedder,
    LocalEmbedder,
    SentenceTransformerEmbedder,
)
from ..ingest import Ingestor
from ..settings import Settings
from ..store import IndexSnapshot
from ._measure import peak_rss_mb, timed


class _TimedEmbedder:
    """Passes through to the model, adding up the seconds spent inside ``embed``."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with timed() as t:
            out = self.inner.embed(texts)
        self.seconds += t.seconds
        return out

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Chunks with their sentences pooled in the same pass (what ingest calls now)."""
        with timed() as t:
            out: tuple[np.ndarray, list[np.ndarray]] = self.inner.embed_spans(  # type: ignore[attr-defined]
                texts, spans
            )
        self.seconds += t.seconds
        return out


def bench_ingestion(
    root: Path, settings: Settings, repeats: int, fake: bool = False
) -> dict[str, Any]:
    """Cold, warm and raw runs, ``repeats`` times each, interleaved; medians reported."""
    model = make_model(settings, fake)
    with timed() as load:
        raw_encode(model, ["warm-up"] * 16, settings.embedding.batch_size)  # loads the weights
    with timed() as imports:
        _once_per_process(settings)
    runs = [_one_round(root / f"ingest-{r}", settings, model) for r in range(repeats)]
    med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    chunks = int(med["chunks"])
    return {
        "chunks": chunks,
        "documents": int(med["documents"]),
        "model_load_s": round(load.seconds, 2),
        "imports_s": round(imports.seconds, 2),
        "cold_s": round(med["cold_s"], 3),
        "cold_model_s": round(med["cold_model_s"], 3),
        "warm_s": round(med["warm_s"], 3),
        "raw_encode_s": round(med["raw_s"], 3),
        "raw_chunks_s": round(med["raw_chunks_s"], 3),
        "sentences": int(med["sentences"]),
        "sentence_texts": int(med["sentence_texts"]),
        "cold_chunks_per_s": round(chunks / med["cold_s"], 1),
        "warm_chunks_per_s": round(chunks / med["warm_s"], 1),
        "raw_chunks_per_s": round(chunks / med["raw_s"], 1),
        "ratio_cold": round(statistics.median(r["raw_s"] / r["cold_s"] for r in runs), 3),
        "ratio_warm": round(statistics.median(r["raw_s"] / r["warm_s"] for r in runs), 3),
        "cold_overhead_s": round(med["cold_s"] - med["cold_model_s"], 3),
        "repeats": repeats,
        "peak_rss_mb": peak_rss_mb(),
        "index_dir": str(root / "ingest-0" / "index"),
        "cache_dir": str(root / "ingest-0" / "cache"),
    }


def _once_per_process(settings: Settings) -> None:
    """What any first ingest in a process pays once, like the model load: bm25s's import and
    tiktoken's BPE table. Paid before the timed runs, reported as ``imports_s``."""
    from ..retrieval.search import import_bm25s

    import_bm25s()
    import Stemmer  # noqa: F401

    token_encoding(settings.chunking.encoding)


def make_model(settings: Settings, fake: bool = False) -> Embedder:
    """The real encoder, or (``fake``: the bench's own smoke test) the hash-seeded one."""
    return HashEmbedder() if fake else SentenceTransformerEmbedder(settings.embedding)


def serving_model(
    settings: Settings, export_dir: Path, fake: bool = False, torch_model: Embedder | None = None
) -> Embedder:
    """What ``Assistant.load()`` encodes questions with: the model's ONNX export for small
    batches (made in ``export_dir`` when missing), torch for bulk ones; the fake as is."""
    if fake:
        return torch_model or HashEmbedder()
    return LocalEmbedder(settings.embedding, export_dir, torch_model)


def raw_encode(model: Embedder, texts: list[str], batch_size: int) -> np.ndarray:
    """The bare ``SentenceTransformer.encode`` call, with no wrapper of ours around it."""
    if not isinstance(model, SentenceTransformerEmbedder):
        return model.embed(texts)
    return model.model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


def _one_round(root: Path, settings: Settings, model: Embedder) -> dict[str, float]:
    local = settings.with_updates(paths={"index_dir": root / "index", "cache_dir": root / "cache"})
    timer = _TimedEmbedder(model)
    embedder = CachedEmbedder(timer, local.paths.cache_dir)  # type: ignore[arg-type]
    with timed() as cold:
        snapshot, report = Ingestor(local, embedder).run(rebuild=True)
    cold_model = timer.seconds
    texts = [embed_text(c.section, c.text) for c in snapshot.chunks]
    sentences = _sentence_texts(snapshot)
    with timed() as raw_chunks:
        raw_encode(model, texts, local.embedding.batch_size)
    with timed() as raw_sentences:
        raw_encode(model, sentences, local.embedding.batch_size)
    with timed() as warm:
        Ingestor(local, embedder).run(rebuild=True)
    return {
        "chunks": float(report.chunks),
        "documents": float(report.documents),
        "cold_s": cold.seconds,
        "cold_model_s": cold_model,
        "raw_s": raw_chunks.seconds + raw_sentences.seconds,
        "raw_chunks_s": raw_chunks.seconds,
        "sentences": float(report.sentences),
        "sentence_texts": float(len(sentences)),
        "warm_s": warm.seconds,
    }


def _sentence_texts(snapshot: IndexSnapshot) -> list[str]:
    """The distinct sentence texts of the snapshot's table: what ingest sent to the encoder."""
    table = snapshot.sentences
    if table is None:
        return []
    texts: dict[str, None] = {}
    for doc_id in table.doc_ids:
        clean = snapshot.documents[doc_id].clean_text
        texts.update((clean[a:b], None) for a, b, _ in table.doc_spans(doc_id).tolist())
    return list(texts)
