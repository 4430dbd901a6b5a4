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
    indexed = [d for d in documents if d.alias_of is None]
    named: set[str] = set()
    query = question
    for doc in indexed:
        for author in dict.fromkeys([*doc.authors, *(authors or {}).get(doc.doc_id, [])]):
            names = [n for n in re.split(r"[\s\-]+", author) if len(n) > 1]
            surname_hit = any(re.search(rf"\b{re.escape(n)}\b", question) for n in names)
            if surname_hit:
                named.add(doc.doc_id)
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
        versions = {d.doc_id for d in indexed if d.doc_id in named and d.version == wanted}
        if wanted and versions:
            named = versions
    query = re.sub(r"\s+", " ", re.sub(r"(?<!\w)[&\-](?!\w)", " ", query)).strip()
    return DocHint(frozenset(named), query or question)
