"""Embedding throughput: one process against Ray Data workers (``scripts/bench_scale.py ray``).

Benchmark only: nothing here is imported when the assistant runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..embeddings.local import SentenceTransformerEmbedder
from ..embeddings.ray import embed_on_ray, ray_session
from ..settings import Settings


def ingest_throughput(
    settings: Settings, workers: Sequence[int] = (1, 2), repeat: int = 1, **local: Any
) -> dict[str, float]:
    """Chunks/s embedding the corpus: single process, then Ray with each worker count.

    Embeds the corpus's chunk texts (``repeat`` times over) without the cache, so the encoder
    alone is measured; Ray figures include starting the actors and loading their models.
    ``local`` sizes a local Ray cluster. For the benchmark harness:
    ``ingest_throughput(Settings(), (1, 2), repeat=4, num_cpus=2)``.
    """
    texts = corpus_texts(settings) * repeat
    local_embedder = SentenceTransformerEmbedder(settings.embedding)
    _ = local_embedder.model
    t0 = time.perf_counter()
    local_embedder.embed(texts)
    result = {"chunks": float(len(texts)), "local": len(texts) / (time.perf_counter() - t0)}
    with ray_session(settings.embedding.ray_address, **local):
        for n in workers:
            embedding = settings.embedding.model_copy(update={"ray_workers": n})
            t0 = time.perf_counter()
            embed_on_ray(texts, embedding)
            result[f"ray_{n}"] = len(texts) / (time.perf_counter() - t0)
    return result


class _Recorder:
    """An Embedder that keeps the texts it is given and returns zero vectors."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        _ = inner.model  # loads it, which sets the real dimension and sequence length
        self.inner = inner
        self.name, self.dimension = inner.name, inner.dimension
        self.max_seq_length = inner.max_seq_length
        self.texts: list[str] = []

    def count_wordpieces(self, text: str) -> int:
        return self.inner.count_wordpieces(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return np.zeros((len(texts), self.dimension), dtype=np.float32)


def corpus_texts(settings: Settings) -> list[str]:
    """The texts an ingest of the corpus folder embeds (a throwaway index in a temp folder)."""
    import tempfile

    from ..ingest import Ingestor

    recorder = _Recorder(SentenceTransformerEmbedder(settings.embedding))
    with tempfile.TemporaryDirectory() as tmp:
        scratch = settings.with_updates(
            paths={"index_dir": f"{tmp}/index", "cache_dir": f"{tmp}/cache"},
            embedding={"engine": "local"},
            store={"backend": "faiss"},
        )
        Ingestor(scratch, recorder).run()
    return recorder.texts
