"""Questions that name a paper by its authors ("in <surname>'s paper", "the revised version").

Author names are metadata, not content: left in the query they pull retrieval towards the
author line of the front matter. They are taken out of the search text and turned into a
filter on the papers they name; "earlier"/"revised" picks the version the catalog marks.
Names come from the catalog and from each paper's own title block (front matter).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..store import DocRecord

_REVISED = re.compile(r"\b(revised|newer|later|updated|second)\b", re.I)
_WORD = re.compile(r"\w+")
_EARLIER = re.compile(r"\b(earlier|original|older|first|initial)\s+(version|draft|paper)", re.I)


@dataclass(frozen=True)
class DocHint:
    docs: frozenset[str]
    query: str  # the question with author names taken out


def named_documents(
    question: str,
    documents: Iterable[DocRecord],
    authors: Mapping[str, list[str]] | None = None,
) -> DocHint:
    """Papers the question names by an author; ``authors``: names found in each paper's text."""
    return PaperNames(documents, authors).named(question)


class PaperNames:
    """The author names of every indexed paper, indexed once per snapshot.

    Matching a question against every paper's authors cost a scan of all papers per question
    (~30 ms at 10,000 papers, twice per ``ask``); a name made of word characters matches
    ``\\bname\\b`` exactly when it is one of the question's ``\\w+`` words, so those are a
    dictionary look-up and only the rare name with other characters is searched for.
    """

    def __init__(
        self, documents: Iterable[DocRecord], authors: Mapping[str, list[str]] | None = None
    ) -> None:
        self._docs = [d for d in documents if d.alias_of is None]
        self._order = {d.doc_id: i for i, d in enumerate(self._docs)}
        self._version = {d.doc_id: d.version for d in self._docs}
        # per paper, its authors' names (each author a list of name parts), in reading order
        self._names: dict[str, list[list[str]]] = {}
        self._by_word: dict[str, set[str]] = {}
        self._odd: list[tuple[str, str]] = []  # (name part, doc_id) not made of word chars
        for doc in self._docs:
            listed = dict.fromkeys([*doc.authors, *(authors or {}).get(doc.doc_id, [])])
            parts = [[n for n in re.split(r"[\s\-]+", a) if len(n) > 1] for a in listed]
            self._names[doc.doc_id] = parts
            for name in (n for names in parts for n in names):
                if _WORD.fullmatch(name):
                    self._by_word.setdefault(name, set()).add(doc.doc_id)
                else:
                    self._odd.append((name, doc.doc_id))

    def named(self, question: str) -> DocHint:
        words = set(_WORD.findall(question))
        candidates = {d for w in words & self._by_word.keys() for d in self._by_word[w]}
        candidates |= {d for n, d in self._odd if _mentions(question, n)}
        named: set[str] = set()
        query = question
        for doc_id in sorted(candidates, key=self._order.__getitem__):
            for names in self._names[doc_id]:
                if any(_mentions(question, n) for n in names):
                    named.add(doc_id)
                    for n in names:
                        query = re.sub(rf"\b{re.escape(n)}(?:'s)?\b", " ", query)
        if len(named) > 1:
            wanted = (
                "revised"
                if _REVISED.search(question)
                else "earlier"
                if _EARLIER.search(question)
                else None
            )
            versions = {d for d in named if self._version[d] == wanted}
            if wanted and versions:
                named = versions
        query = re.sub(r"\s+", " ", re.sub(r"(?<!\w)[&\-](?!\w)", " ", query)).strip()
        return DocHint(frozenset(named), query or question)


def _mentions(question: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", question) is not None
