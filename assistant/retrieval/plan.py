"""The question analysed once, with the chat history, into a typed plan.

``make_plan`` reads what the user typed in its conversation: it resolves an elliptic follow-up
("Why?" after a list asks about that list; "And the revised version?" asks the previous
question again about that version), then records the kind of answer wanted, its focus, its
scope (the years asked; one period or a running total), the papers it names by author, and
whether it asks about the papers as a whole (an overview) or about their front matter.
Retrieval (``Assistant``) and the answerer both read the plan; neither analyses the question
again.

>>> plan = make_plan("How many freight trains left Chengdu in 2015 alone?")
>>> plan.kind, plan.scope.years, plan.scope.one_period
('count', ('2015',), True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast, get_args

from ..corpus.lexicon import Lexicon
from .followup import History, resolve_followup
from .overview_cues import OverviewKind, wants_overview
from .paper_hints import PaperNames
from .query import QuestionInfo, analyse, question_parts

AnswerKind = Literal[
    "person",
    "organisation",
    "place",
    "date",
    "count",
    "money",
    "percent",
    "list",
    "reason",
    "comparison",
    "other",
]
# How an elliptic question leans on the previous turn (see ``followup.followup_kind``).
FollowupKind = Literal["bare", "element", "topic"]

YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
# A question about one period ("in 2022 alone", "each year", "annual") and a text giving a
# total over several ("since 2013", "cumulative", "2017-2022", "so far", "in total").
_ONE_PERIOD = re.compile(
    r"(?i)\b(?:alone|annual(?:ly)?|each year|per year|a year|every year|that year|single year|"
    r"in (?:19|20)\d{2}\b(?!\s*(?:-|–|to|and)))"
)
RUNNING_TOTAL = re.compile(
    r"(?i)\b(?:cumulative(?:ly)?|in total|a total of|so far|to date|since (?:19|20)\d{2}|"
    r"accumulated|altogether|(?:19|20)\d{2}\s*(?:-|–|to)\s*(?:19|20)\d{2}|over the past|"
    r"(?:in|over) the (?:\w+ )?years since|since (?:its|their) (?:establishment|launch|opening|"
    r"founding|start))\b"
)
# "average annual growth between 2013 and 2022" names a year yet asks about a span
_BETWEEN_YEARS = re.compile(r"(?i)\bbetween (?:19|20)\d{2}\b")


@dataclass(frozen=True)
class Scope:
    """The period a question asks about: the years it names (sorted), and whether it asks
    for one period ("in 2022 alone") rather than a total over several."""

    years: tuple[str, ...] = ()
    one_period: bool = False


def question_scope(question: str) -> Scope:
    """The years ``question`` names and whether it asks about a single period."""
    years = tuple(sorted(set(YEAR.findall(question))))
    one_period = bool(_ONE_PERIOD.search(question)) and not RUNNING_TOTAL.search(question)
    one_period = one_period and not _BETWEEN_YEARS.search(question)
    return Scope(years, one_period)


@dataclass(frozen=True)
class QuestionPlan:
    """What a question asks, worked out once before retrieval.

    ``asked`` is what the user typed; ``text`` the question standing alone (a follow-up
    resolved against the history, or an LLM's rewrite), which the answerer reads;
    ``search_query`` what retrieval searches for (author names taken out: they become
    ``papers``, a filter). ``info`` is the full analysis of ``text``; ``parts`` the analyses of
    each question a compound one asks.
    """

    asked: str
    text: str
    search_query: str
    kind: AnswerKind
    info: QuestionInfo
    focus: tuple[str, ...] = ()
    scope: Scope = Scope()
    papers: tuple[str, ...] = ()  # doc ids the question names (sorted)
    followup: FollowupKind | None = None
    boost_doc: str | None = None  # the paper the conversation is about
    front_matter: str | None = None  # funding|affiliation|authors|keywords|venue|title
    overview: OverviewKind | None = None
    parts: tuple[QuestionInfo, ...] = ()

    @property
    def comparison(self) -> bool:
        return self.kind == "comparison"


def make_plan(
    question: str,
    history: History | None = None,
    lexicon: Lexicon | None = None,
    paper_names: PaperNames | None = None,
    *,
    condensed: str | None = None,
) -> QuestionPlan:
    """The plan for ``question`` asked after ``history`` (oldest turn first).

    ``paper_names``: the index's author names (without them no paper counts as named);
    ``condensed``: a standalone rewrite of a follow-up (an LLM's), preferred to the rules'.
    """
    resolved = resolve_followup(question, history)
    text = condensed or resolved.standalone
    info = analyse(text, lexicon)
    search = condensed or resolved.search_query
    papers: tuple[str, ...] = ()
    if paper_names is not None:
        hint = paper_names.named(search)
        search, papers = hint.query, tuple(sorted(hint.docs))
    parts = tuple(analyse(p, lexicon) for p in question_parts(text)) if info.compound else ()
    return QuestionPlan(
        asked=question,
        text=text,
        search_query=search,
        kind=_kind(info.kind),
        info=info,
        focus=info.focus,
        scope=question_scope(text),
        papers=papers,
        followup=cast(FollowupKind | None, resolved.followup),
        boost_doc=resolved.boost_doc,
        front_matter=info.front_matter,
        overview=wants_overview(text),
        parts=parts,
    )


def _kind(kind: str) -> AnswerKind:
    if kind not in get_args(AnswerKind):
        raise ValueError(f"unknown answer kind {kind!r}: expected one of {get_args(AnswerKind)}")
    return cast(AnswerKind, kind)
