"""Who / when / where / how many / how much: lead with the answering span, verbatim from the
cited sentence, then quote the whole sentence (and a second one that also holds such a span).

When no likely sentence holds a span of the asked kind, or the best one gives the figure for
another year or as a running total, it declines and says so.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ...retrieval.query import QuestionInfo
from ...types import Answer
from ..base import abstention
from ..evidence import typed_spans
from ..features import Candidate, span_distance
from .common import Reading, cite_decline, compose, coverage_note, scope_note

_MONTH_BEFORE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\s+(?:\d{1,2},?\s+)?$"
)


def answer(r: Reading) -> Answer:
    """The span-led answer, or a decline saying what is missing or out of scope."""
    led = lead_with_span(r)
    if led is None:  # a who/when/how-many question, and no sentence holds such a span
        why = coverage_note(r.plan, r.candidates).text
        return abstention(r.question, r.passages, r.answerer, why)
    scope = scope_note(r.plan, typed(r, r.info, r.candidates)[:1])
    if scope is not None:  # the figure is for another year, or a running total
        declined = abstention(r.question, r.passages, r.answerer, scope.text)
        return cite_decline(declined, scope, r.ctx)
    return led


def typed(
    r: Reading,
    info: QuestionInfo,
    candidates: list[Candidate],
    whole: QuestionInfo | None = None,
) -> list[Candidate]:
    """The most probable sentences holding a span of the asked kind, best first (empty
    when none does). ``whole``: the full question when ``info`` is one part of it."""
    settings = r.settings
    if whole is not None:
        info = replace(info, focus=info.focus or whole.focus)
    ranked = sorted(candidates, key=lambda c: -c.probability)
    best = ranked[0].probability
    found: list[Candidate] = []
    for c in ranked[: settings.typed_candidates]:
        if c.probability < best * settings.keep_share:
            break
        if (whole is not None or info.unit) and not c.row.get("tied_to_focus"):
            continue  # a part of a compound question, or "how many <unit>": about it
        if typed_spans(c.text, info.kind):
            found.append(c)
    # among likely sentences, one whose span sits next to the words asked about leads
    found.sort(key=lambda c: -c.row.get("span_adjacent", 0.0))
    return found[: settings.max_factual_sentences]


def lead_with_span(r: Reading) -> Answer | None:
    """The answering span first, verbatim from the cited sentence, then the whole sentence
    (and a second one that also holds such a span); None when no sentence holds one."""
    info = r.info
    found = typed(r, info, r.candidates)
    if not found:
        return None
    first = found[0]
    spans = typed_spans(first.text, info.kind)
    (a, b), _ = span_distance(info, first.text, spans)
    month = _MONTH_BEFORE.search(first.text[:a]) if info.kind == "date" else None
    a = month.start() if month else a  # "March 2017", not "2017"
    answer = compose(r, found)
    # the span's marker is its sentence's: that citation quotes the whole sentence, which holds
    # the span verbatim (one source per marker on cards, in the CLI and in the export)
    marker = answer.citations[0].marker
    span = first.text[a:b].strip()
    answer.text = f"{span} [{marker}]\n\n{answer.text}"
    return answer
