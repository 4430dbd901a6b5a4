"""Duplicate renderings and versions among papers: decided for each new or changed paper.

A near-identical rendering of an indexed paper becomes its alias (not indexed itself; the
cleaner rendering is canonical); a moderately similar one is linked as a version.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..corpus.version_index import VersionIndex
from ..store.records import ChunkRecord, DocRecord
from .report import IngestReport


def resolve_aliases(
    docs: dict[str, DocRecord],
    fresh: dict[str, list[ChunkRecord]],
    report: IngestReport,
    thresholds: tuple[float, float],
) -> None:
    """Decide, for every paper in ``fresh``, whether it duplicates or versions another.

    Candidates come from a banded index over the stored MinHash signatures
    (``VersionIndex``: no pair at the version threshold is missed), so each new paper is
    compared with the few papers it shares rare hash values with, not with every paper.
    """
    dup_t, ver_t = thresholds
    index = VersionIndex.build(
        {d.doc_id: d.minhash for d in docs.values() if d.minhash}, threshold=ver_t
    )  # in docs order: ties go to the paper listed first, as they always have
    for doc_id, rel in index.relate_all(
        list(fresh), dup_t, ver_t, eligible=lambda k: docs[k].alias_of is None
    ):
        doc = docs[doc_id]
        doc.alias_of, doc.version_group = None, None
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
