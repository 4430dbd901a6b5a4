"""Conversation state and follow-up resolution.

Offline, a follow-up is resolved against the conversation with a few English wording rules:

- an elliptic question that names no topic ("Why?", "How so?", "What do you mean?") asks about
  the previous question: it stands alone as "Why: <previous question>", and searches for the
  previous question's words and the sentences the previous answer cited;
- "and"/"what about" with a new element and no question of its own ("And the revised
  version?", "What about in the earlier version?", "And Chengdu?") asks the previous question
  again about that element: "<previous question>, in the revised version?";
- any other follow-up ("And what about its legal environment?") is answered as asked, its
  search carrying the previous question's content words.

Every follow-up boosts the paper the previous answer cited. An LLM answerer may instead
condense the conversation into a standalone question (``Assistant`` prefers that rewrite).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..types import Answer, Turn
from .query import STOPWORDS, looks_like_followup

History = Sequence[Turn | dict[str, Any] | tuple[str, Any]]

_WORD = re.compile(r"[A-Za-z][A-Za-z\-']*|\d+(?:[.,]\d+)*%?")
_WH = frozenset("why how when where who whom whose what which".split())
# Words that name no topic on their own: "What do you mean exactly?", "Can you elaborate?"
_VAGUE = frozenset(
    """mean meant means exactly really example examples instance details detail elaborate more
    else specifically sure please go on continue happen happened happens come case matter
    reason reasons many much""".split()
)
_PRONOUN = re.compile(
    r"\b(?:it|its|they|them|their|theirs|this|that|these|those|he|she|him|his|her|hers|"
    r"there|the same)\b",
    re.I,
)
_OPENER = re.compile(
    r"^\s*(?:(?:and|but|so)\s+)?(?:what|how)\s+about\b|^\s*(?:and|also|then|but)\b[,\s]*", re.I
)
_PREPOSITION = re.compile(
    r"^(?:in|for|at|on|during|under|from|by|within|across|among|according to|about|after|"
    r"before|since|without|with|between)\b",
    re.I,
)
_DOCUMENT_PART = re.compile(
    r"\b(?:version|versions|edition|draft|revision|preprint|paper|article|study|report|section|"
    r"chapter|table|figure|appendix)\b",
    re.I,
)
_MAX_ELEMENT_WORDS = 6  # "And <element>?": longer is a question of its own
_MAX_CARRIED_WORDS = 16
_MAX_QUOTES = 5
_MAX_QUOTE_WORDS = 25


@dataclass(frozen=True)
class ResolvedQuestion:
    question: str  # what the user asked
    search_query: str  # what retrieval searches for
    boost_doc: str | None = None  # the paper the conversation is about
    standalone: str = ""  # the question rewritten to stand alone (what the answerer reads)
    followup: str | None = None  # None (stands alone), "bare", "element" or "topic"

    def __post_init__(self) -> None:
        if not self.standalone:
            object.__setattr__(self, "standalone", self.question)


@dataclass(frozen=True)
class _Topic:
    """What a turn was about: its question made standalone, and the words to carry on."""

    base: str
    words: tuple[str, ...] = ()


def normalise_history(history: History | None) -> list[Turn]:
    """Accept Turns, (question, answer) pairs, or chat messages ({"role", "content"})."""
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, tuple):
            q, a = item
            turns.append(Turn(question=str(q), answer=a if isinstance(a, Answer) else None))
        elif isinstance(item, dict) and item.get("role") == "user":
            turns.append(Turn(question=str(item.get("content", ""))))
        elif isinstance(item, dict) and item.get("role") == "assistant" and turns:
            answer = item.get("answer")
            if isinstance(answer, Answer):
                turns[-1] = Turn(question=turns[-1].question, answer=answer)
    return turns


def resolve_followup(question: str, history: History | None) -> ResolvedQuestion:
    """``question`` as asked in the conversation ``history`` (oldest turn first)."""
    turns = [t for t in normalise_history(history) if t.question.strip()]
    if not turns:
        return ResolvedQuestion(question, question)
    topic: _Topic | None = None
    for turn in turns:  # earlier follow-ups resolved first: "Why?" after "And Chengdu?"
        topic = _resolve(turn.question, topic, None)[1]
    assert topic is not None
    return _resolve(question, topic, turns[-1].answer)[0]


def followup_kind(question: str) -> str | None:
    """How an elliptic question leans on the previous turn: "bare" (names no topic: "Why?"),
    "element" ("And the revised version?"), "topic" (any other follow-up wording), or None."""
    if not looks_like_followup(question):
        return None
    words = [w.lower() for w in _WORD.findall(question)]
    if not words:
        return None  # punctuation or emoji only: nothing to resolve
    if not [w for w in words if w not in STOPWORDS and w not in _VAGUE and w not in _WH]:
        return "bare"
    if _element(question) is not None:
        return "element"
    return "topic"


def _element(question: str) -> str | None:
    """The new element of "And <element>?" / "What about <element>?" / "In <element>?"."""
    m = _OPENER.match(question)
    rest = question[m.end() :] if m else question
    rest = rest.strip(" \t?.!,;:")
    if not rest or (m is None and not _PREPOSITION.match(rest)):
        return None
    words = _WORD.findall(rest)
    if not words or len(rest.split()) > _MAX_ELEMENT_WORDS:
        return None
    if any(w.lower() in _WH for w in words) or _PRONOUN.search(rest):
        return None  # a question of its own ("and how many firms are in that park?")
    if not [w for w in words if w.lower() not in STOPWORDS]:
        return None
    return rest


def _resolve(
    question: str, previous: _Topic | None, answer: Answer | None
) -> tuple[ResolvedQuestion, _Topic]:
    own = _content_words(question)
    kind = followup_kind(question) if previous is not None else None
    if previous is None or kind is None:
        return ResolvedQuestion(question, question), _Topic(question, own)
    boost = _answer_doc(answer)
    if kind == "bare":
        lead = _sentence_case(question.strip().rstrip("?.!,;: ")) or "And"
        standalone = f"{lead}: {previous.base}"
        search = _join([*previous.words, *_quotes(answer)]) or previous.base
        return ResolvedQuestion(question, search, boost, standalone, kind), previous
    if kind == "element":
        element = _element(question) or ""
        if not _PREPOSITION.match(element):
            element = ("in " if _DOCUMENT_PART.search(element) else "for ") + element
        standalone = f"{previous.base.strip().rstrip('?.!,;: ')}, {element}?"
        words = _merge(_content_words(element), previous.words)
        search = _join(words)
        return ResolvedQuestion(question, search, boost, standalone, kind), _Topic(
            standalone, words
        )
    asked = {w.lower() for w in own}
    extra = [w for w in previous.words if w.lower() not in asked]
    search = " ".join([question, *extra])
    return ResolvedQuestion(question, search, boost, question, kind), _Topic(
        question, _merge(own, previous.words)
    )


def _content_words(text: str) -> tuple[str, ...]:
    words = _WORD.findall(text)
    kept = [w for w in words if w.lower() not in STOPWORDS and (len(w) > 2 or w[0].isdigit())]
    return tuple(dict.fromkeys(kept))


def _merge(first: Sequence[str], second: Sequence[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for w in [*first, *second]:
        if w.lower() not in seen:
            seen.add(w.lower())
            out.append(w)
    return tuple(out[:_MAX_CARRIED_WORDS])


def _join(words: Sequence[str]) -> str:
    return " ".join(w for w in words if w)


def _quotes(answer: Answer | None) -> list[str]:
    """The sentences the previous answer cited (each trimmed): a list's items, a fact's
    sentence; what "Why?" or "How?" asks about."""
    if answer is None or answer.abstained:
        return []
    quotes = dict.fromkeys(c.quote.strip() for c in answer.citations if c.quote.strip())
    return [" ".join(q.split()[:_MAX_QUOTE_WORDS]) for q in list(quotes)[:_MAX_QUOTES]]


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _answer_doc(answer: Answer | None) -> str | None:
    if answer is None:
        return None
    if answer.citations:
        return answer.citations[0].doc_id
    return answer.passages[0].doc_id if answer.passages else None
