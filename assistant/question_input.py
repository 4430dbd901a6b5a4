"""What a question and its knobs must be before anything is searched: clean text, a known
mode and k, papers that exist. Each problem is one ``QuestionError``/``ConfigError`` line."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import ConfigError, PaperNotFoundError, QuestionError
from .store import IndexSnapshot

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MODES = ("dense", "bm25", "hybrid")


def clean_question(question: str, limit: int) -> tuple[str, str | None]:
    """The question as one line of text (at most ``limit`` characters), and a note when
    part of it was dropped."""
    if not isinstance(question, str):
        raise QuestionError(f"the question must be text, not {type(question).__name__}")
    # Lone surrogates (a shell hands Python bytes that are not UTF-8 as surrogate escapes)
    # can be neither encoded nor printed: they become spaces, and the user is told.
    readable = re.sub("[\ud800-\udfff]", " ", question)
    undecodable = (
        "Parts of the question were not UTF-8 text and were ignored."
        if readable != question
        else None
    )
    text = re.sub(r"\s+", " ", _CONTROL.sub(" ", readable)).strip()
    if not text:
        raise QuestionError("empty question: type a question about the papers")
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] or text[:limit]
        shortened = (
            f"The question was {len(text):,} characters; only the first {len(cut):,} were used."
        )
        return cut, f"{undecodable} {shortened}" if undecodable else shortened
    return text, undecodable


def chosen_papers(papers: Iterable[str] | None, snapshot: IndexSnapshot) -> frozenset[str] | None:
    """The indexed papers a user chose to ask within (an alias counts as its indexed paper),
    or None for every paper; an empty choice or an id the index lacks is an error."""
    if papers is None:
        return None
    if isinstance(papers, str):
        raise QuestionError(f"papers must be a list of paper ids, not the string {papers!r}")
    ids = list(dict.fromkeys(str(p) for p in papers))
    if not ids:
        raise QuestionError(
            "no paper chosen: choose at least one paper to ask within (`assistant index-info` "
            "lists their ids), or choose none to search them all"
        )
    docs = snapshot.documents
    unknown = [p for p in ids if p not in docs]
    if unknown:
        names = ", ".join(repr(p) for p in unknown)
        raise PaperNotFoundError(
            f"no indexed paper has the id {names}: `assistant index-info` lists the ids"
        )
    return frozenset(docs[p].alias_of or p for p in ids)


def check_knobs(k: int | None, mode: str | None) -> None:
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ConfigError(f"k must be a whole number of passages, at least 1, not {k!r}")
    if mode is not None and mode not in _MODES:
        raise ConfigError(f"mode must be dense, bm25 or hybrid, not {mode!r}")
