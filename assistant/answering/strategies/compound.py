"""A question asking several things ("How many ..., and by when?"): quote what answers each
part, and say which parts of a factual kind the passages leave unanswered."""

from __future__ import annotations

from ...types import Answer
from . import factual
from .common import Reading, compose, select


def answer(r: Reading) -> Answer:
    chosen = select(r, r.candidates)
    unanswered: list[str] = []
    for part in r.plan.parts:
        if not part.factual:
            continue
        found = factual.typed(r, part, r.candidates, whole=r.info)[:1]
        if not found:
            unanswered.append(part.text)
        elif not any(o.start <= found[0].start < o.end for o in chosen):
            chosen.append(found[0])
    answer = compose(r, chosen)
    if unanswered:
        parts = "; ".join(f"“{p}”" for p in unanswered)
        answer.notice = f"The passages found do not answer {parts}."
    return answer
