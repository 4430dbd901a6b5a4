"""Version detection at scale: ``VersionIndex`` over synthetic MinHash signatures.

The signatures stand in for ``DocRecord.minhash`` of ``papers`` papers. Unrelated papers
still share hash values where they share stock phrases ("in this study", "of the"), and those
shared values are what makes an inverted index slow, so each synthetic signature takes a
fraction of its positions (uniform in 0.12-0.32 per paper) from a per-position pool of
100,000 "common" values drawn Zipf(1), the rest fresh random values. Fitted to SciFact's
5,183 abstracts, which share 19% of their (position, value) tokens with another abstract,
24.8 ± 8.8 per abstract, 947k token collisions in all; the model gives about the same at
that size, and its collisions grow with the square of the papers as real ones do.

Planted pairs: ``duplicates`` papers copy a base paper in 103-128 of the 128 positions
(Jaccard estimate ≥ 0.8), ``versions`` copy 11-77 positions (0.086-0.6, down to the
threshold 0.08 of the settings), the rest drawn like any paper's. Recall is the share of
planted pairs the index reports; agreement is the share of sampled papers whose decision
equals a brute-force pass of ``relate``'s rule over every other paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..corpus.version_index import VersionIndex, min_matches
from ..settings import Settings
from ._measure import latencies, peak_rss_mb, percentiles, timed

NUM_PERM = 128
_POOL = 1000000
_COMMON = (0.08, 0.46)
_TOPIC_SIZE = 50  # papers per topic, on average
_TOPIC_SHARE = 0.1  # of the other positions, taken from the topic's values
_TOPIC_VALUES = 2  # per topic and position
_MAX_HASH = 2**32


@dataclass(frozen=True)
class Planted:
    signatures: np.ndarray  # (papers, NUM_PERM) uint64
    pairs: np.ndarray  # (k, 2) rows: (base, derived)
    shared: np.ndarray  # (k,) positions the derived paper copied


def background(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` unrelated signatures with the stock-phrase overlap of real abstracts."""
    cdf = np.cumsum(1.0 / np.arange(1, _POOL + 1))
    cdf /= cdf[-1]
    common = rng.random((n, NUM_PERM)) < rng.uniform(*_COMMON, size=(n, 1))
    rank = np.searchsorted(cdf, rng.random(int(common.sum()))).astype(np.uint64)
    slope = rng.integers(1, _MAX_HASH // 2, size=NUM_PERM, dtype=np.uint64) * 2 + 1
    offset = rng.integers(0, _MAX_HASH, size=NUM_PERM, dtype=np.uint64)
    cols = np.nonzero(common)[1]
    sigs = rng.integers(0, _MAX_HASH, size=(n, NUM_PERM), dtype=np.uint64)
    sigs[common] = (rank * slope[cols] + offset[cols]) % np.uint64(_MAX_HASH)
    topic = rng.integers(0, max(1, n // _TOPIC_SIZE), size=(n, 1)).astype(np.uint64)
    local = ~common & (rng.random((n, NUM_PERM)) < _TOPIC_SHARE)
    pick = topic * np.uint64(_TOPIC_VALUES) + rng.integers(0, _TOPIC_VALUES, size=(n, NUM_PERM))
    pick = pick.astype(np.uint64)
    cols = np.nonzero(local)[1]
    sigs[local] = (pick[local] * slope[cols] + offset[cols] + np.uint64(_POOL)) % np.uint64(
        _MAX_HASH
    )
    return sigs


def planted_corpus(
    papers: int, seed: int = 0, duplicates: float = 0.02, versions: float = 0.03
) -> Planted:
    """``papers`` signatures, the last ``duplicates + versions`` share of them derived from
    earlier (base) papers as described in the module docstring."""
    rng = np.random.default_rng(seed)
    sigs = background(rng, papers)
    n_dup, n_ver = int(papers * duplicates), int(papers * versions)
    derived = np.arange(papers - n_dup - n_ver, papers)
    base = rng.integers(0, derived[0] if derived.size else 1, size=derived.size)
    threshold = min_matches(0.08, NUM_PERM)
    shared = np.concatenate(
        [
            rng.integers(min_matches(0.8, NUM_PERM), NUM_PERM + 1, size=n_dup),
            rng.integers(threshold, int(0.6 * NUM_PERM) + 1, size=n_ver),
        ]
    )
    for row, src, keep in zip(derived.tolist(), base.tolist(), shared.tolist(), strict=True):
        cols = rng.choice(NUM_PERM, size=keep, replace=False)
        sigs[row, cols] = sigs[src, cols]
    return Planted(sigs, np.stack([base, derived], axis=1), shared)


def bench_dedup(
    papers: int, settings: Settings, adds: int = 200, samples: int = 200, seed: int = 0
) -> dict[str, Any]:
    """Build, detect every pair, add papers one at a time, save and load, at ``papers``."""
    import tempfile
    from pathlib import Path

    dup_t = settings.corpus.duplicate_threshold
    ver_t = settings.corpus.version_threshold
    corpus = planted_corpus(papers + adds, seed)
    sigs, extra = corpus.signatures[:papers], corpus.signatures[papers:]
    ids = [f"p{i}" for i in range(papers + adds)]
    stored = {ids[i]: row for i, row in enumerate(sigs.tolist())}  # as DocRecord.minhash holds
    with timed() as build:
        index = VersionIndex.build(stored, threshold=ver_t, num_perm=NUM_PERM)
    del stored
    with timed() as pairs_t:
        found = {(a, b) for a, b, _ in index.pairs()}
    with timed() as relate_t:
        related = sum(r is not None for _, r in index.relate_all(ids[:papers], dup_t, ver_t))
    planted = [(ids[a], ids[b]) for a, b in corpus.pairs.tolist() if a < papers and b < papers]
    recall = sum(p in found for p in planted) / len(planted) if planted else 1.0
    agreement = _agreement(index, sigs, ids, samples, dup_t, ver_t, seed)

    def add(row: int) -> None:
        index.add(ids[papers + row], extra[row])
        index.relate(ids[papers + row], dup_t, ver_t)

    add_lat = percentiles(latencies(add, range(len(extra))))
    with tempfile.TemporaryDirectory() as tmp, timed() as save:
        index.save(Path(tmp))
        disk = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20
        with timed() as load:
            VersionIndex.load(Path(tmp))
    return {
        "papers": papers,
        "planted_pairs": len(planted),
        "pairs_found": len(found),
        "related_papers": related,
        "recall": round(recall, 4),
        "agreement": round(agreement, 4),
        "agreement_samples": min(samples, papers),
        "build_s": round(build.seconds, 2),
        "pairs_s": round(pairs_t.seconds, 2),
        "relate_all_s": round(relate_t.seconds, 2),
        "detect_all_s": round(build.seconds + relate_t.seconds, 2),
        "add": add_lat,
        "add_p95_ms": add_lat["p95_ms"],
        "save_s": round(save.seconds - load.seconds, 2),
        "load_s": round(load.seconds, 2),
        "disk_mb": round(disk, 1),
        "postings": int(index.postings),
        "peak_rss_mb": peak_rss_mb(),
    }


def _agreement(
    index: VersionIndex,
    sigs: np.ndarray,
    ids: list[str],
    samples: int,
    dup_t: float,
    ver_t: float,
    seed: int,
) -> float:
    """Share of sampled papers (half of them planted derivatives) whose ``index.relate``
    equals ``relate``'s rule applied by brute force over every other paper."""
    rng = np.random.default_rng(seed + 1)
    n = len(sigs)
    picks = np.unique(
        np.concatenate(
            [rng.integers(0, n, size=samples // 2), n - 1 - rng.integers(0, n // 20 + 1, samples)]
        )
    )[:samples]
    same = 0
    for row in picks.tolist():
        counts = np.count_nonzero(sigs == sigs[row], axis=1)
        counts[row] = -1
        best = int(np.argmax(counts))  # the first of the most similar, as relate keeps
        sim = counts[best] / NUM_PERM
        expect = None
        if sim >= ver_t:
            expect = (ids[best], "duplicate" if sim >= dup_t else "version", sim)
        rel = index.relate(ids[row], dup_t, ver_t)
        got = None if rel is None else (rel.other, rel.kind, rel.similarity)
        same += got == expect
    return same / len(picks) if len(picks) else 1.0
