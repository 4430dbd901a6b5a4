"""The chunking stage: a paper record's cleaned text to chunk records (or the base's)."""

from __future__ import annotations

from ..chunking import Chunker
from ..corpus.cleaning import CleanDocument, Section
from ..store.records import ChunkRecord, DocRecord

_FIELDS = tuple(ChunkRecord.__dataclass_fields__)


class ChunkStage:
    """Chunks papers; a rebuild's unchanged papers keep the base generation's chunks."""

    def __init__(self, chunker: Chunker):
        self.chunker = chunker
        self.prior_docs: dict[str, DocRecord] = {}
        self.prior_chunks: dict[str, list[ChunkRecord]] = {}

    def keep(self, docs: dict[str, DocRecord], chunks: list[ChunkRecord]) -> None:
        """Remember a compatible base generation's papers and chunks for reuse."""
        self.prior_docs = dict(docs)
        for c in chunks:
            self.prior_chunks.setdefault(c.doc_id, []).append(c)

    def prior(self, doc_id: str) -> DocRecord | None:
        return self.prior_docs.get(doc_id)

    def of(self, doc: DocRecord) -> list[ChunkRecord]:
        """The paper's chunks: the base generation's when its text is the same, else new."""
        prior = self.prior_docs.get(doc.doc_id)
        if prior is not None and prior.content_hash == doc.content_hash:
            kept = self.prior_chunks.get(doc.doc_id)
            if kept:
                return kept
        clean = CleanDocument(
            text=doc.clean_text,
            sections=[Section(t, s, e) for t, s, e in doc.sections],
            segments=[(c, r, n) for c, r, n in doc.segments],
        )
        return [
            ChunkRecord(**{k: getattr(c, k) for k in _FIELDS})
            for c in self.chunker.chunk(doc.doc_id, clean)
        ]
