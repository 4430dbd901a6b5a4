"""The small typed objects that cross module boundaries: Passage, Citation, Answer.

pydantic models, so an Answer prints as JSON (``assistant ask --json``) and round-trips.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

Progress = Callable[[str, int, int], None]
"""A progress callback: (stage, done, total); stages are reading, embedding, sentences,
indexing."""


class Passage(BaseModel):
    """A retrieved chunk of one paper, with where it sits in the cleaned text."""

    chunk_id: str
    doc_id: str
    title: str = ""
    section: str = ""
    text: str
    start: int = Field(description="Char offset of the chunk in the cleaned document.")
    end: int
    score: float = 0.0
    scores: dict[str, float] = Field(default_factory=dict, description="Per-retriever scores.")
    versions: list[str] = Field(
        default_factory=list, description="Other doc ids holding the same passage."
    )
    field: str | None = Field(
        None,
        description="Front-matter kind (title, authors, affiliation, keywords, abstract, "
        "funding) when the passage is that field of the paper, exactly; None for body text.",
    )
    pages: tuple[int, int] | None = Field(
        None, description="First and last PDF page (1-based) the passage spans; None for text."
    )


class Citation(BaseModel):
    """One ``[n]`` marker: the passage it points at and the exact sentence(s) quoted."""

    marker: int
    passage: Passage
    doc_id: str
    quote: str
    start: int = Field(description="Char offset of the quote in the cleaned document.")
    end: int
    raw_start: int | None = Field(None, description="Offset of the quote in the raw file.")
    raw_end: int | None = None
    page: int | None = Field(None, description="PDF page (1-based) the quote starts on.")
    page_end: int | None = Field(None, description="Its last page, set when that is later.")
    verified: bool = True


class Answer(BaseModel):
    """What ``Assistant.ask`` returns."""

    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    abstained: bool = False
    answerer: str = "extractive"
    notice: str | None = Field(None, description="e.g. an LLM fallback, a truncated question.")
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage.")
    unsupported: list[str] = Field(
        default_factory=list, description="Answer sentences no cited passage supports."
    )
    citation_precision: float | None = None
    citation_recall: float | None = None
    confidence: float | None = Field(
        None, description="Best evidence score (extractive); it abstains below the threshold."
    )


class Turn(BaseModel):
    """One exchange of a conversation, enough for follow-up resolution."""

    question: str
    answer: Answer | None = None
