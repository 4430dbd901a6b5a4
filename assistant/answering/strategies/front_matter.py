"""Questions about a paper itself ("Who funded the study?", "Where do the authors work?"):
quote the front-matter field retrieval put first, or say the paper does not state it."""

from __future__ import annotations

from ...retrieval.plan import QuestionPlan
from ...types import Answer, Citation, Passage
from ..base import AnswerContext, abstention
from .common import confident

_QUOTED = 2  # fields quoted (the same field of two papers named)
_FIELD_NAMES = {
    "affiliation": "authors' affiliation or contact details",
    "authors": "authors",
    "venue": "journal or year of publication",
    "funding": "funding",
    "keywords": "keywords",
    "title": "title",
}
# Fields every paper states: when none is found, saying so is the answer.
_ALWAYS_STATED = ("affiliation", "authors", "venue")


def answer(
    question: str, plan: QuestionPlan, passages: list[Passage], ctx: AnswerContext, name: str
) -> Answer | None:
    """The asked-for field quoted (certain: confidence 1), a decline for a field the paper
    should state and does not, or None (not a front-matter question, or left to the reader)."""
    if not plan.front_matter:
        return None
    fields = [p for p in passages if p.field == plan.front_matter]
    if fields:
        return confident(_quote(question, fields, passages, ctx, name), 1.0)
    if plan.front_matter in _ALWAYS_STATED:
        why = f"The paper does not state its {_FIELD_NAMES[plan.front_matter]}."
        return abstention(question, passages, name, why)
    return None


def _quote(
    question: str, fields: list[Passage], passages: list[Passage], ctx: AnswerContext, name: str
) -> Answer:
    citations: list[Citation] = []
    lines: list[str] = []
    for marker, p in enumerate(fields[:_QUOTED], start=1):
        citations.append(ctx.citation(marker, p, p.start, p.end))
        lines.append(f"{p.text} [{marker}]")
    return Answer(
        question=question,
        text="\n".join(lines),
        citations=citations,
        passages=passages,
        answerer=name,
    )
