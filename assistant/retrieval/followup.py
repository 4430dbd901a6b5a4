"""Conversation state and follow-up resolution.

Offline, a follow-up ("And what about its legal environment?") is resolved by carrying the
previous question's content words into the search and boosting the paper the previous answer
cited. An LLM answerer may instead condense the conversation into a standalone question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..types import Answer, Turn
from .query import STOPWORDS, looks_like_followup

History = Sequence[Turn | dict[str, Any] | tuple[str, Any]]


@dataclass(frozen=True)
class ResolvedQuestion:
    question: str  # what the user asked
    search_query: str  # what retrieval searches for
    boost_doc: str | None = None  # the paper the conversation is about


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
    turns = normalise_history(history)
    if not turns or not looks_like_followup(question):
        return ResolvedQuestion(question, question)
    previous = turns[-1]
    words = re.findall(r"[A-Za-z][A-Za-z\-']+|\d+", previous.question)
    carried = [w for w in words if w.lower() not in STOPWORDS and len(w) > 2]
    asked = {w.lower() for w in re.findall(r"[A-Za-z\-']+", question)}
    extra = [w for w in dict.fromkeys(carried) if w.lower() not in asked]
    return ResolvedQuestion(
        question=question,
        search_query=" ".join([question, *extra]),
        boost_doc=_answer_doc(previous.answer),
    )


def _answer_doc(answer: Answer | None) -> str | None:
    if answer is None:
        return None
    if answer.citations:
        return answer.citations[0].doc_id
    return answer.passages[0].doc_id if answer.passages else None
