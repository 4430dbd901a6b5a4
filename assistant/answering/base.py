"""What every answerer shares: the abstention sentinel, the interface, and citation making."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from ..corpus.front_matter import Field, FrontMatterCache
from ..corpus.pages import PageFinder
from ..retrieval.paper_hints import PaperNames
from ..retrieval.plan import QuestionPlan
from ..store import ChunkRecord, DocRecord, IndexSnapshot
from ..types import Answer, Citation, Passage

# Sentinel phrase shared by the answerers, the prompts, the UI, the eval and the tests.
ABSTAIN_TEXT = "The indexed papers do not answer this question."


class Answerer(Protocol):
    """Answers ``question`` from ``passages``. ``plan``: the question's plan, made once by the
    caller (``Assistant``) with the chat history; without one the answerer reads the question
    on its own, as a first question."""

    name: str

    def answer(
        self,
        question: str,
        passages: list[Passage],
        ctx: AnswerContext,
        plan: QuestionPlan | None = None,
    ) -> Answer: ...

    def stream(
        self,
        question: str,
        passages: list[Passage],
        ctx: AnswerContext,
        plan: QuestionPlan | None = None,
    ) -> Iterator[str | Answer]: ...


class AnswerContext:
    """Read access to the index snapshot an answer is made from: documents and chunks."""

    def __init__(
        self,
        snapshot: IndexSnapshot,
        has_word: Callable[[str], bool] | None = None,
        front: FrontMatterCache | None = None,
    ) -> None:
        self.snapshot = snapshot
        # corpus vocabulary lookup: lets an answerer notice a question about unknown things
        self.has_word = has_word or (lambda word: True)
        self._layout = snapshot.layout  # a paper's chunks by start, without reading them all
        self.pages = PageFinder()  # each quoted paper's clean -> raw offset map, kept
        self.front = front or FrontMatterCache(snapshot.documents)
        self._names: PaperNames | None = None

    def paper_names(self) -> PaperNames:
        """The papers' catalog author names, indexed once per snapshot."""
        if self._names is None:
            self._names = PaperNames(self.snapshot.documents.values())
        return self._names

    def front_matter(self, doc_id: str) -> list[Field]:
        """The paper's front-matter fields (title, authors, affiliation...), cached."""
        return self.front.fields(doc_id)

    def document(self, doc_id: str) -> DocRecord:
        return self.snapshot.documents[doc_id]

    def chunk_at(self, doc_id: str, pos: int) -> ChunkRecord | None:
        """The first chunk of ``doc_id`` that covers char ``pos``."""
        positions = self._layout.positions(doc_id)
        i = bisect.bisect_right(self._layout.starts[positions].tolist(), pos) - 1
        for p in positions[max(0, i - 2) : i + 1]:
            chunk = self.snapshot.chunks[int(p)]
            if chunk.start <= pos < chunk.end:
                return chunk
        return self.snapshot.chunks[int(positions[i])] if 0 <= i < len(positions) else None

    def sentence_vectors(
        self, spans: Sequence[tuple[str, int, int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Vectors stored at ingest for the ``(doc_id, start, end)`` sentence spans, and which
        ones were found (all False for an index built before the table existed)."""
        table = self.snapshot.sentences
        if table is None:
            return np.zeros((len(spans), 0), np.float32), np.zeros(len(spans), bool)
        return table.lookup(spans)

    def passage_for(self, chunk: ChunkRecord) -> Passage:
        doc = self.snapshot.documents.get(chunk.doc_id)
        return Passage(
            chunk_id=chunk.chunk_id,
            doc_id=chunk.doc_id,
            title=doc.title if doc else "",
            section=chunk.section,
            text=chunk.text,
            start=chunk.start,
            end=chunk.end,
            pages=self.pages.span(doc, chunk.start, chunk.end),
        )

    def citation(self, marker: int, passage: Passage, start: int, end: int) -> Citation:
        """A citation quoting ``clean_text[start:end]`` of the passage's document."""
        doc = self.document(passage.doc_id)
        pages = self.pages.span(doc, start, end)
        return Citation(
            marker=marker,
            passage=passage,
            doc_id=passage.doc_id,
            quote=doc.clean_text[start:end],
            start=start,
            end=end,
            raw_start=self.pages.raw(doc, start),
            raw_end=self.pages.raw(doc, end),
            page=pages[0] if pages else None,
            page_end=pages[1] if pages and pages[1] > pages[0] else None,
        )


def abstention(question: str, passages: list[Passage], answerer: str, why: str = "") -> Answer:
    text = ABSTAIN_TEXT + (f" {why}" if why else "")
    return Answer(
        question=question, text=text, passages=passages, abstained=True, answerer=answerer
    )
