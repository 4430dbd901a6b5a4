"""Comparisons: evidence per paper (or version), side by side: the best sentences of each of
the two best-ranked papers under that paper's title."""

from __future__ import annotations

from ...types import Answer, Citation
from ..features import Candidate
from .common import Reading, clause_of, compose, select

_PAPERS = 2  # papers set side by side


def answer(r: Reading) -> Answer:
    by_doc: dict[str, list[Candidate]] = {}
    for c in sorted(r.candidates, key=lambda c: -c.probability):
        by_doc.setdefault(c.passage.doc_id, []).append(c)
    docs = list(by_doc)[:_PAPERS]
    if len(docs) < _PAPERS:  # one paper only: an ordinary answer
        return compose(r, select(r, r.candidates))
    per = max(1, r.settings.max_sentences - 1)
    focus = set(r.info.focus)
    markers: dict[str, int] = {}
    citations: list[Citation] = []
    lines: list[str] = []
    for doc_id in docs:
        doc = r.ctx.document(doc_id)
        label = f"{doc.title} ({doc.version})" if doc.version else doc.title
        lines.append(f"“{label}”:")
        for c in select(r, by_doc[doc_id])[:per]:
            c = clause_of(c, None, focus, r.settings.max_clause_words)
            marker = markers.setdefault(c.passage.chunk_id, len(markers) + 1)
            citations.append(r.ctx.citation(marker, c.passage, c.start, c.end))
            lines.append(f"- {c.text} [{marker}]")
    return r.answer("\n".join(lines), citations)
