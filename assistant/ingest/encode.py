"""The embedding stage: chunk and sentence texts to vectors, in batches, with progress.

Texts go through the embedder (which holds the content-hash cache, so a resumed or repeated
ingest re-encodes nothing it already did), sorted by length so a batch pads little.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..chunking import embed_text
from ..embeddings import Embedder
from ..embeddings.late import embed_with_spans
from ..sentences import sentence_spans
from ..settings import Settings
from ..store.records import ChunkRecord, DocRecord
from ..store.sentences import SentenceTable
from ..types import Progress
from .report import IngestReport


class EncodeStage:
    """Encodes one ingest's new chunks and their sentences, counting the encoder's work.

    Each new chunk is encoded once, and its sentences' vectors are pooled from that pass
    (``embeddings.late``), so no token goes through the model twice; only a sentence no new
    chunk holds whole is encoded on its own.
    """

    def __init__(self, settings: Settings, embedder: Embedder, progress: Progress):
        self.settings = settings
        self.embedder = embedder
        self.progress = progress
        self.pooled: dict[str, np.ndarray] = {}  # sentence text -> vector from its chunk

    def chunks(
        self,
        chunks: Sequence[ChunkRecord],
        docs: Mapping[str, DocRecord],
        report: IngestReport,
    ) -> np.ndarray:
        texts, spans, sentences = [], [], []
        for c in chunks:
            text = embed_text(c.section, c.text)
            shift = len(text) - len(c.text)  # the section title put before the chunk's text
            clean = docs[c.doc_id].clean_text
            inside = sentence_spans(clean, c.start, c.end)
            texts.append(text)
            spans.append([(shift + a - c.start, shift + b - c.start) for a, b in inside])
            sentences.append([clean[a:b] for a, b in inside])
        before = encoder_calls(self.embedder)
        vectors, pooled = self._in_batches(texts, spans)
        report.embedded = encoder_calls(self.embedder) - before
        if counts_calls(self.embedder):
            report.reused = len(texts) - report.embedded
        for words, rows in zip(sentences, pooled, strict=True):
            for sentence, vector in zip(words, rows, strict=True):
                self.pooled.setdefault(sentence, vector)
        return vectors

    def sentences(
        self,
        old: SentenceTable | None,
        docs: Mapping[str, DocRecord],
        chunks: Sequence[ChunkRecord],
        kept: set[str],
        report: IngestReport,
    ) -> SentenceTable:
        """Vectors of every sentence the answerer scores: kept papers keep their rows, new
        ones take the vectors pooled in their chunk's pass; any other is encoded."""

        def embed(texts: Sequence[str]) -> np.ndarray:
            out = np.empty((len(texts), self.embedder.dimension), np.float32)
            alone = [i for i, t in enumerate(texts) if t not in self.pooled]
            for i, t in enumerate(texts):
                if t in self.pooled:
                    out[i] = self.pooled[t]
            if alone:
                out[alone] = self._by_length([texts[i] for i in alone], "sentences")
            report.embedded_sentences += len(alone)
            return out

        table = SentenceTable.build(docs, chunks, embed, self.embedder.dimension, old, kept)
        self.pooled.clear()
        return table

    def _in_batches(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """``embed_with_spans`` over length-sorted batches, with progress."""
        dim = self.embedder.dimension
        vectors = np.empty((len(texts), dim), np.float32)
        pooled: list[np.ndarray] = [np.empty((0, dim), np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batch = max(1, self.settings.embedding.batch_size * 4)
        if self.settings.embedding.engine == "ray":
            batch = max(1, len(texts))  # one Ray Data job spreads all texts over the workers
        for s in range(0, len(order), batch):
            self.progress("embedding", s, len(texts))
            part = order[s : s + batch]
            got, spans_got = embed_with_spans(
                self.embedder, [texts[i] for i in part], [spans[i] for i in part]
            )
            vectors[part] = got
            for j, i in enumerate(part):
                pooled[i] = spans_got[j]
        self.progress("embedding", len(texts), len(texts))
        return vectors, pooled

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
            batch = max(1, len(texts))
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
