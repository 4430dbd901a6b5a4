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

    By default each distinct sentence text is encoded on its own (shortest first, little
    padding). With ``late`` each new chunk is encoded once and its sentences' vectors are
    pooled from that pass (``embeddings.late``), so no token goes through the model twice.
    """

    def __init__(
        self, settings: Settings, embedder: Embedder, progress: Progress, late: bool = False
    ):
        self.settings = settings
        self.late = late  # sentences pooled from their chunk's pass, else encoded alone
        self.embedder = embedder
        self.progress = progress
        # each distinct sentence text of the new chunks -> its row of ``pooled``: one copy of
        # the vectors, however many chunks repeat a sentence (a 50 MB file has ~400k)
        self.rows: dict[str, int] = {}
        self.pooled: np.ndarray | None = None

    def chunks(
        self,
        chunks: Sequence[ChunkRecord],
        docs: Mapping[str, DocRecord],
        report: IngestReport,
    ) -> np.ndarray:
        if not self.late:
            before = encoder_calls(self.embedder)
            vectors = self._by_length([embed_text(c.section, c.text) for c in chunks], "embedding")
            report.embedded = encoder_calls(self.embedder) - before
            if counts_calls(self.embedder):
                report.reused = len(chunks) - report.embedded
            return vectors
        texts: list[str] = []
        spans: list[list[tuple[int, int]]] = []
        found: list[list[tuple[int, int]]] = []
        wanted: dict[str, set[tuple[int, int]]] = {}
        for c in chunks:
            text = embed_text(c.section, c.text)
            shift = len(text) - len(c.text)  # the section title put before the chunk's text
            inside = sentence_spans(docs[c.doc_id].clean_text, c.start, c.end)
            wanted.setdefault(c.doc_id, set()).update(inside)
            texts.append(text)
            spans.append([(shift + a - c.start, shift + b - c.start) for a, b in inside])
            found.append(inside)
        # rows in the order the sentence table lists texts (papers by id, spans sorted), so a
        # cold build takes ``pooled`` as its vectors without a reordered copy
        for doc_id in sorted(wanted):
            clean = docs[doc_id].clean_text
            for a, b in sorted(wanted[doc_id]):
                self.rows.setdefault(clean[a:b], len(self.rows))
        owned: list[list[tuple[int, int]]] = []  # (span index, row) each chunk writes
        taken: set[int] = set()
        for c, inside in zip(chunks, found, strict=True):
            clean = docs[c.doc_id].clean_text
            mine = []
            for k, (a, b) in enumerate(inside):
                row = self.rows[clean[a:b]]
                if row not in taken:  # its first chunk (in order) gives its vector
                    taken.add(row)
                    mine.append((k, row))
            owned.append(mine)
        self.pooled = np.empty((len(self.rows), self.embedder.dimension), np.float32)
        before = encoder_calls(self.embedder)
        vectors = self._in_batches(texts, spans, owned)
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
        """Vectors of every sentence the answerer scores: kept papers keep their rows, new
        ones take the vectors pooled in their chunk's pass; any other is encoded."""

        def embed(texts: Sequence[str]) -> np.ndarray:
            rows = np.fromiter((self.rows.get(t, -1) for t in texts), np.int64, len(texts))
            if self.pooled is not None and np.array_equal(rows, np.arange(len(self.pooled))):
                out, self.pooled, self.rows = self.pooled, None, {}  # a cold build: as is
                return out
            hit = rows >= 0
            out = np.empty((len(texts), self.embedder.dimension), np.float32)
            if self.pooled is not None and hit.any():
                out[hit] = self.pooled[rows[hit]]
            self.pooled, self.rows = None, {}  # copied: free it before the table fills
            alone = np.flatnonzero(~hit)
            self._into(out, [texts[int(i)] for i in alone], alone, "sentences")
            report.embedded_sentences += len(alone)
            return out

        table = SentenceTable.build(docs, chunks, embed, self.embedder.dimension, old, kept)
        self.pooled, self.rows = None, {}
        return table

    def _in_batches(
        self,
        texts: list[str],
        spans: list[list[tuple[int, int]]],
        owned: list[list[tuple[int, int]]],
    ) -> np.ndarray:
        """``embed_with_spans`` over length-sorted batches, with progress; each sentence's
        vector goes straight to its row of ``pooled``."""
        assert self.pooled is not None
        vectors = np.empty((len(texts), self.embedder.dimension), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batch = max(1, self.settings.embedding.batch_size * 4)
        if self.settings.embedding.engine == "ray":
            batch = max(1, len(texts))  # one Ray Data job spreads all texts over the workers
        for s in range(0, len(order), batch):
            self.progress("embedding", s, len(texts))
            part = order[s : s + batch]
            got, pooled = embed_with_spans(
                self.embedder, [texts[i] for i in part], [spans[i] for i in part]
            )
            vectors[part] = got
            for j, i in enumerate(part):
                for k, row in owned[i]:
                    self.pooled[row] = pooled[j][k]
        self.progress("embedding", len(texts), len(texts))
        return vectors

    def _by_length(self, texts: Sequence[str], stage: str) -> np.ndarray:
        out = np.empty((len(texts), self.embedder.dimension), np.float32)
        self._into(out, texts, np.arange(len(texts)), stage)
        return out

    def _into(self, out: np.ndarray, texts: Sequence[str], rows: np.ndarray, stage: str) -> None:
        """Encode ``texts`` into ``out[rows]`` batch by batch, shortest first (little padding,
        and no batch list to stack: one copy of the vectors however many there are)."""
        if not texts:
            return
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batch = max(1, self.settings.embedding.batch_size * 4)
        if self.settings.embedding.engine == "ray":
            batch = max(1, len(texts))  # one Ray Data job spreads all texts over the workers
        for i in range(0, len(order), batch):
            self.progress(stage, i, len(texts))
            part = order[i : i + batch]
            out[rows[part]] = self.embedder.embed([texts[j] for j in part])
        self.progress(stage, len(texts), len(texts))


def counts_calls(embedder: Embedder) -> bool:
    return hasattr(getattr(embedder, "inner", embedder), "calls")


def encoder_calls(embedder: Embedder) -> int:
    """Texts the underlying encoder has been sent (cache misses), if it counts them."""
    inner = getattr(embedder, "inner", embedder)
    return int(getattr(inner, "calls", 0))
