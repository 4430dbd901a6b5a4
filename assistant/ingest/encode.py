"""The embedding stage: chunk and sentence texts to vectors, in batches, with progress.

Texts go through the embedder (which holds the content-hash cache, so a resumed or repeated
ingest re-encodes nothing it already did), sorted by length so a batch pads little.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..chunking import embed_text
from ..embeddings import Embedder
from ..settings import Settings
from ..store.records import ChunkRecord, DocRecord
from ..store.sentences import SentenceTable
from ..types import Progress
from .report import IngestReport


class EncodeStage:
    """Encodes one ingest's new chunks and sentences and counts the encoder's work."""

    def __init__(self, settings: Settings, embedder: Embedder, progress: Progress):
        self.settings = settings
        self.embedder = embedder
        self.progress = progress

    def chunks(self, chunks: Sequence[ChunkRecord], report: IngestReport) -> np.ndarray:
        texts = [embed_text(c.section, c.text) for c in chunks]
        before = encoder_calls(self.embedder)
        vectors = self._by_length(texts, "embedding")
        report.embedded = encoder_calls(self.embedder) - before
        if counts_calls(self.embedder):
            report.reused = len(texts) - report.embedded
        return vectors

    def sentences(
        self,
        old: SentenceTable | None,
        docs: Mapping[str, DocRecord],
        chunks: Sequence[ChunkRecord],
        kept: set[str],
        report: IngestReport,
    ) -> SentenceTable:
        """Vectors of every sentence the answerer scores: kept papers keep their rows, the
        others' sentences go through the (cached) embedder, each distinct text once."""
        before = encoder_calls(self.embedder)
        table = SentenceTable.build(
            docs,
            chunks,
            lambda texts: self._by_length(texts, "sentences"),
            self.embedder.dimension,
            old,
            kept,
        )
        report.embedded_sentences = encoder_calls(self.embedder) - before
        return table

    def _by_length(self, texts: Sequence[str], stage: str) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.embedder.dimension), np.float32)
        if texts:
            out[order] = self._encode([texts[i] for i in order], stage)
        return out

    def _encode(self, texts: list[str], stage: str) -> np.ndarray:
        out: list[np.ndarray] = []
        batch = max(1, self.settings.embedding.batch_size * 4)
        if self.settings.embedding.engine == "ray":
            batch = max(1, len(texts))  # one Ray Data job spreads all texts over the workers
        for i in range(0, len(texts), batch):
            self.progress(stage, i, len(texts))
            out.append(self.embedder.embed(texts[i : i + batch]))
        self.progress(stage, len(texts), len(texts))
        if not out:
            return np.zeros((0, self.embedder.dimension), np.float32)
        return np.vstack(out)


def counts_calls(embedder: Embedder) -> bool:
    return hasattr(getattr(embedder, "inner", embedder), "calls")


def encoder_calls(embedder: Embedder) -> int:
    """Texts the underlying encoder has been sent (cache misses), if it counts them."""
    inner = getattr(embedder, "inner", embedder)
    return int(getattr(inner, "calls", 0))
