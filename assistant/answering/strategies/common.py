"""What every answer strategy shares: the reading it composes from, quoting sentences with
``[n]`` markers, choosing the sentences, and the notes a decline gives.

Every quote is a span of the paper's cleaned text, so every citation is checkably exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ...corpus.lexicon import Lexicon
from ...retrieval.plan import QuestionPlan
from ...retrieval.query import QuestionInfo
from ...sentences import sentence_spans
from ...settings import AnswerSettings
from ...types import Answer, Citation, Passage
from ..base import AnswerContext
from ..evidence import clause_window
from ..features import Candidate


@dataclass(frozen=True)
class Reading:
    """What a strategy composes an answer from: the question's plan, the passages retrieved,
    their candidate sentences (each with the reader's probability), the index, the settings."""

    question: str  # as the answerer was given it (``Answer.question``)
    plan: QuestionPlan
    passages: list[Passage]
    candidates: list[Candidate]
    ctx: AnswerContext
    settings: AnswerSettings
    lexicon: Lexicon
    answerer: str  # the answerer's name

    @property
    def info(self) -> QuestionInfo:
        return self.plan.info

    def answer(self, text: str, citations: list[Citation]) -> Answer:
        return Answer(
            question=self.question,
            text=text,
            citations=citations,
            passages=self.passages,
            answerer=self.answerer,
        )


@dataclass(frozen=True)
class Decline:
    """Why the reader declines, and the sentence that shows what the papers do give."""

    text: str
    cite: Candidate | None = None


def select(r: Reading, candidates: list[Candidate]) -> list[Candidate]:
    """The most probable sentences, none repeating another: for a list in the papers' order;
    otherwise the most probable first, then the rest in the papers' order."""
    settings = r.settings
    limit = settings.max_list_sentences if r.info.wants_list else settings.max_sentences
    ranked = sorted(candidates, key=lambda c: -c.probability)
    floor = ranked[0].probability * settings.keep_share
    pool = [c for c in ranked if c.probability >= floor]
    vectors = np.stack([c.vector for c in pool if c.vector is not None])
    assert len(vectors) == len(pool), "every candidate's vector is set by read()"
    chosen: list[int] = []
    for i in range(len(pool)):
        if len(chosen) >= limit:
            break
        if chosen and float(np.max(vectors[chosen] @ vectors[i])) > settings.redundancy:
            continue
        chosen.append(i)
    picked = [pool[i] for i in chosen]
    doc_order = {p: k for k, p in enumerate(dict.fromkeys(c.passage.doc_id for c in picked))}
    in_order = sorted(picked, key=lambda c: (doc_order[c.passage.doc_id], c.start))
    if r.info.wants_list:
        return in_order
    # the answer leads with the sentence most likely to answer; the rest read in order
    return picked[:1] + [c for c in in_order if c is not picked[0]]


def compose(r: Reading, chosen: list[Candidate]) -> Answer:
    """The chosen sentences quoted whole, in the order given, each with its passage's marker."""
    markers: dict[str, int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for c in chosen:
        c = whole_sentence(r.ctx, c)
        marker = markers.setdefault(c.passage.chunk_id, len(markers) + 1)
        citations.append(r.ctx.citation(marker, c.passage, c.start, c.end))
        parts.append(f"{one_line(c.text)} [{marker}]")
    return r.answer(" ".join(parts), citations)


def clause_of(
    c: Candidate, anchor: tuple[int, int] | None, focus: set[str], max_words: int
) -> Candidate:
    """``c`` cut to the clauses around ``anchor`` (offsets stay exact)."""
    a, b = clause_window(c.text, anchor, focus, max_words)
    if (a, b) == (0, len(c.text)):
        return c
    return replace(c, start=c.start + a, end=c.start + b, text=c.text[a:b])


def whole_sentence(ctx: AnswerContext, c: Candidate) -> Candidate:
    """``c`` from the start of its sentence when it begins inside one ("relations, the ..."):
    a chunk that began mid-sentence, or a page break the cleaner kept as a paragraph break.
    A quote starts where its sentence does; offsets stay exact."""
    if c.text[:1].isupper() or c.text[:1].isdigit() or c.text[:1] in "“\"'([":
        return c
    text = ctx.document(c.passage.doc_id).clean_text
    start = c.start
    for _ in range(2):  # this paragraph, then (across a break) the one before
        para = text.rfind("\n\n", 0, start)
        para = 0 if para < 0 else para + 2
        starts = [a for a, b in sentence_spans(text, para, start + 1) if a < start]
        if starts:
            start = starts[-1]
            break
        if para == 0:
            break
        before = text[:para].rstrip()
        if not before or before[-1] in ".!?。！？:":
            break  # the paragraph before ends its own sentence: nothing to join
        start = para - 2
    if start == c.start:
        return c
    return replace(c, start=start, text=text[start : c.end])


def one_line(text: str) -> str:
    """A quote as shown in the answer: a page break inside it read as a space."""
    return re.sub(r"\s*\n\s*", " ", text)


def confident(answer: Answer, score: float) -> Answer:
    """Record the answerable probability: the eval sweeps the abstain threshold without
    re-asking."""
    answer.confidence = round(score, 6)
    return answer


def cite_decline(declined: Answer, why: Decline, ctx: AnswerContext) -> Answer:
    """A decline that shows what the papers do give, cited (another year, a total)."""
    c = why.cite
    assert c is not None
    declined.text = f"{declined.text} “{c.text}” [1]"
    declined.citations = [ctx.citation(1, c.passage, c.start, c.end)]
    return declined


_KIND_NAMES = {
    "person": "a person's name",
    "organisation": "an organisation's name",
    "place": "a place",
    "date": "a date",
    "count": "a figure",
    "money": "an amount of money",
    "percent": "a percentage",
}


def coverage_note(plan: QuestionPlan, candidates: list[Candidate]) -> Decline:
    """What the closest passages are about, for a declined question."""
    kind = _KIND_NAMES.get(plan.kind, "an answer")
    ranked = sorted(candidates, key=lambda c: -c.probability)
    sections = [c.passage.section for c in ranked if c.passage.section][:2]
    about = " and ".join(f"“{x}”" for x in dict.fromkeys(sections))
    where = f" The closest passages are in {about}." if about else ""
    return Decline(f"No passage gives {kind} for what is asked.{where}")


_SCOPE_LOOK = 3  # the most probable sentences whose scope a decline explains


def scope_note(plan: QuestionPlan, candidates: list[Candidate]) -> Decline | None:
    """When the closest sentence answers for another year or over a longer period, say what
    it does give ("the papers give the figure for 2017, not 2022")."""
    ranked = sorted(candidates, key=lambda c: -c.probability)[:_SCOPE_LOOK]
    asked = list(plan.scope.years)
    for c in ranked:
        if c.row.get("year_conflict") and asked:
            stated = sorted(set(re.findall(r"\b(?:19|20)\d{2}\b", c.text)))
            return Decline(
                f"The closest passage gives {', '.join(stated)}, not {', '.join(asked)}:", c
            )
        if c.row.get("cumulative_conflict"):
            return Decline(
                "The closest passage gives a figure over several years or a running total, "
                "not for the single period asked:",
                c,
            )
    return None
