"""Near-duplicate and version detection between papers, with datasketch MinHash.

Two files whose word-shingle Jaccard is very high are one paper in two renderings (index one,
remember the other as an alias); a moderate overlap means versions of one work (index both,
linked, so retrieval can collapse their near-identical passages).

``relate`` compares one paper with every other (quadratic over an ingest);
``version_index.VersionIndex`` finds the same relations touching only the papers that can
reach the version threshold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from datasketch import MinHash

_NUM_PERM = 128
_SHINGLE = 3
_SCHEME = "affine32"


@dataclass(frozen=True)
class Relation:
    doc_id: str
    other: str
    kind: str  # "duplicate" | "version"
    similarity: float


def signature(text: str) -> MinHash:
    """MinHash of the text's lower-cased word 3-grams (layout and punctuation ignored)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    shingles = {" ".join(words[i : i + _SHINGLE]) for i in range(max(1, len(words) - 2))}
    mh = MinHash(num_perm=_NUM_PERM, seed=1, scheme=_SCHEME)
    mh.update_batch([s.encode() for s in shingles])
    return mh


def from_hashvalues(values: list[int]) -> MinHash:
    """Rebuild a stored signature (kept in the index as plain integers, not pickled)."""
    return MinHash(num_perm=len(values), seed=1, hashvalues=values, scheme=_SCHEME)


def relate(
    doc_id: str,
    sig: MinHash,
    others: dict[str, MinHash],
    duplicate_threshold: float,
    version_threshold: float,
) -> Relation | None:
    """The strongest relation of ``doc_id`` to any of ``others``, or None."""
    found = ((other, sig.jaccard(other_sig)) for other, other_sig in others.items())
    return strongest(doc_id, found, duplicate_threshold, version_threshold)


def strongest(
    doc_id: str,
    found: Iterable[tuple[str, float]],
    duplicate_threshold: float,
    version_threshold: float,
    eligible: Callable[[str], bool] | None = None,
) -> Relation | None:
    """The rule, over ``(paper, similarity)`` in order: the first strictly most similar
    eligible paper at or above the version threshold (a duplicate at the higher one)."""
    best: Relation | None = None
    for other, sim in found:
        if other == doc_id or (eligible is not None and not eligible(other)):
            continue
        if sim >= version_threshold and (best is None or sim > best.similarity):
            kind = "duplicate" if sim >= duplicate_threshold else "version"
            best = Relation(doc_id, other, kind, sim)
    return best
