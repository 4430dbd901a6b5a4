"""Duplicate renderings and versions among papers: decided for each new or changed paper.

A near-identical rendering of an indexed paper becomes its alias (not indexed itself; the
cleaner rendering is canonical); a moderately similar one is linked as a version.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..corpus.dedup import from_hashvalues, relate
from ..store.records import ChunkRecord, DocRecord
from .report import IngestReport


def resolve_aliases(
    docs: dict[str, DocRecord],
    fresh: dict[str, list[ChunkRecord]],
    report: IngestReport,
    thresholds: tuple[float, float],
) -> None:
    """Decide, for every paper in ``fresh``, whether it duplicates or versions another."""
    sigs = {d.doc_id: from_hashvalues(d.minhash) for d in docs.values() if d.minhash}
    for doc_id in list(fresh):
        doc = docs[doc_id]
        doc.alias_of, doc.version_group = None, None
        if doc_id not in sigs:
            continue
        others = {k: v for k, v in sigs.items() if docs[k].alias_of is None and k != doc_id}
        rel = relate(doc_id, sigs[doc_id], others, *thresholds)
        if rel is None:
            continue
        other = docs[rel.other]
        if rel.kind == "duplicate":
            canonical, alias = (doc, other) if doc.quality > other.quality else (other, doc)
            alias.alias_of = canonical.doc_id
            canonical.aliases = sorted(set(canonical.aliases + alias.aliases + [alias.doc_id]))
            alias.aliases = []
            fresh.pop(alias.doc_id, None)
            if canonical.doc_id not in fresh and canonical is doc:
                fresh[canonical.doc_id] = []
        else:
            group = other.version_group or other.doc_id
            other.version_group = doc.version_group = group
    _tally(docs, report)


def _tally(docs: Mapping[str, DocRecord], report: IngestReport) -> None:
    for d in docs.values():
        if d.alias_of:
            report.aliases[d.doc_id] = d.alias_of
        if d.version_group:
            report.versions.setdefault(d.version_group, []).append(d.doc_id)
