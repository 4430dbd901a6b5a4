"""Question-shaped retrieval on top of the ranked passages: a comparison ranks every paper it
names next to the others, and a question about a paper itself ("who funded the study?") gets
the asked-for front-matter field first."""

from __future__ import annotations

from collections.abc import Collection

from ..types import Passage
from .plan import QuestionPlan
from .query import terms
from .search import Retriever

# Words of a question about a paper's front matter that name no topic ("who funded the study").
_FRONT_MATTER_WORDS = (
    "who fund funded funding funds funder grant grants sponsor sponsored support supported "
    "finance financed where author authors work works worked wrote written affiliation "
    "affiliated institution university company organisation organization email address "
    "contact keywords keyword title titled name names study research work project paper "
    "journal published publisher venue year"
)


def interleave(first: list[Passage], second: list[Passage], k: int) -> list[Passage]:
    """Alternate two rankings (first leading), without repeats, up to ``k`` passages."""
    out: list[Passage] = []
    seen: set[str] = set()
    for pair in zip(first, second, strict=False):
        for p in pair:
            if p.chunk_id not in seen:
                seen.add(p.chunk_id)
                out.append(p)
    for p in first + second:
        if p.chunk_id not in seen:
            seen.add(p.chunk_id)
            out.append(p)
    return out[:k]


def with_front_matter(
    retriever: Retriever,
    plan: QuestionPlan,
    passages: list[Passage],
    within: Collection[str] | None = None,
) -> list[Passage]:
    """Put the asked-for front-matter field first: of the papers the plan names, else of the
    best ranked paper, else (a question naming no topic, "who funded the study?") of any;
    only ever of the papers ``within`` (a user's choice; None: every paper)."""
    ranked = list(dict.fromkeys(p.doc_id for p in passages))
    kind = plan.front_matter or ""
    topical = set(plan.info.terms) - set(terms(_FRONT_MATTER_WORDS))
    named = list(plan.papers)
    if named:
        docs = named
    elif topical:
        docs = ranked[:1]
    else:
        docs = ranked + [d for d in retriever.authors() if d not in ranked]
    if within is not None:
        docs = [d for d in docs if d in within]
    found = retriever.front_matter_passages(kind, docs)[:2]
    ids = {p.chunk_id for p in found}
    return found + [p for p in passages if p.chunk_id not in ids]
