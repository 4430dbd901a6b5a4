"""Overview questions on the bundled corpus: what the papers are about, quoted from their
abstracts, and what a paper concludes, quoted from its conclusion, every quote exact."""

from __future__ import annotations

import re

import pytest

from assistant import Assistant
from assistant.answering.base import AnswerContext
from assistant.answering.overview import overview_answer, wants_overview
from assistant.types import Answer
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration

WANG = "001_e32c79ad1fa0be66.txt"
WANG_PDF = "000_8bcc24135d439364.txt"  # the same paper, another rendering (an alias)
EARLIER = "002_b656026ce0905ff7.txt"
FTZ = "003_8f09d066e0b864c5.txt"
REVISED = "004_b411ba9664f361c8.txt"


@pytest.fixture(scope="module")
def ctx(real_assistant: Assistant) -> AnswerContext:
    return AnswerContext(real_assistant.snapshot)


def _ask(question: str, ctx: AnswerContext) -> Answer:
    kind = wants_overview(question)
    assert kind is not None, question
    answer = overview_answer(question, kind, [], ctx, "extractive")
    assert answer is not None, question
    for c in answer.citations:  # exact in the cleaned text and in the raw file
        doc = ctx.document(c.doc_id)
        assert doc.clean_text[c.start : c.end] == c.quote
        raw = (CORPUS / c.doc_id).read_text(encoding="utf-8")[c.raw_start : c.raw_end]
        assert " ".join(raw.split()) == " ".join(c.quote.split())
        assert f"{c.quote} [{c.marker}]" in answer.text
    return answer


def _section_of(ctx: AnswerContext, doc_id: str, pos: int) -> str:
    return next(str(t) for t, s, e in ctx.document(doc_id).sections if int(s) <= pos < int(e))


def _in_abstract(ctx: AnswerContext, doc_id: str, start: int, end: int) -> bool:
    field = next((f for f in ctx.front_matter(doc_id) if f.kind == "abstract"), None)
    inside_field = field is not None and field.start <= start and end <= field.end
    return inside_field or _section_of(ctx, doc_id, start) == "Abstract"


def test_what_the_papers_are_about_comes_from_every_abstract(ctx: AnswerContext) -> None:
    answer = _ask("What are these papers about?", ctx)
    docs = list(dict.fromkeys(c.doc_id for c in answer.citations))
    assert docs == [WANG, EARLIER, FTZ, REVISED]  # the alias rendering is not listed again
    assert WANG_PDF not in answer.text
    for c in answer.citations:
        assert _in_abstract(ctx, c.doc_id, c.start, c.end), c.quote
    for doc_id in docs:
        assert sum(c.doc_id == doc_id for c in answer.citations) <= 2
    assert "(earlier version)" in answer.text and "(revised version)" in answer.text
    per_paper = answer.text.split("\n")[1:]
    assert len(per_paper) == 4 and all(len(line.split()) <= 130 for line in per_paper)


def test_summary_of_the_paper_named_by_its_author(ctx: AnswerContext) -> None:
    answer = _ask("Summarise Wang Bing's paper", ctx)
    assert {c.doc_id for c in answer.citations} == {WANG}
    assert all(_in_abstract(ctx, WANG, c.start, c.end) for c in answer.citations)
    assert answer.text.startswith(f"“{ctx.document(WANG).title}”, from its abstract:")
    assert "Sichuan is located at the intersection of the onshore Silk Road" in answer.text


def test_conclusion_of_the_revised_version(ctx: AnswerContext) -> None:
    answer = _ask("What does the revised version conclude?", ctx)
    assert {c.doc_id for c in answer.citations} == {REVISED}
    for c in answer.citations:
        assert re.search(r"Conclusion", _section_of(ctx, REVISED, c.start))
        assert len(c.quote.split()) >= 6  # sentences, not the heading
    assert "(revised version), from its conclusion:" in answer.text


def test_main_argument_of_the_paper_named_by_an_abbreviation(ctx: AnswerContext) -> None:
    answer = _ask("what is the main argument of the FTZ paper", ctx)
    assert {c.doc_id for c in answer.citations} == {FTZ}
    assert all(_in_abstract(ctx, FTZ, c.start, c.end) for c in answer.citations)
