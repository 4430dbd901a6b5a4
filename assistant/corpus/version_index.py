"""``VersionIndex``: ``dedup.relate``'s decisions without comparing every pair of papers.

An inverted index of each paper's rarest MinHash values (one-row bands) gives the candidates
that can reach the version threshold; candidates are then compared exactly with ``relate``'s
rule. Apart from ``dedup`` (signatures and the rule): this module is the index only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from .dedup import _NUM_PERM, Relation, strongest

Signature = Sequence[int] | np.ndarray
_FORMAT = 1
_PAIR_BATCH = 4_000_000  # candidate pairs generated per step of the self-join (memory bound)
_VERIFY_BATCH = 65_536  # pairs whose signatures are compared per step
_MAX_VALUE = 2**32  # datasketch's affine32 hash values; stored as uint32


def min_matches(threshold: float, num_perm: int) -> int:
    """The fewest equal signature positions whose estimate ``count / num_perm`` (datasketch's
    ``MinHash.jaccard``) reaches ``threshold``, by the very float comparison ``relate`` makes."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"version threshold must be in (0, 1], not {threshold!r}")
    m = max(1, math.ceil(threshold * num_perm))
    while m > 1 and (m - 1) / num_perm >= threshold:
        m -= 1
    while m / num_perm < threshold:
        m += 1
    return m


class VersionIndex:
    """Every paper's MinHash signature, indexed so that the papers reaching the version
    threshold with a given one are found without comparing it with all the others.

    A paper's *tokens* are its (position, hash value) pairs; two papers' Jaccard estimate is
    the number of tokens they share over ``num_perm``, so reaching ``threshold`` means sharing
    ``m = min_matches(threshold, num_perm)`` tokens or more (11 of 128 at 0.08). Banded LSH
    would lose such pairs: at J = 0.08 even 2-row bands (64 of them) miss 66% of the pairs at
    the threshold (datasketch's ``_optimal_param`` picks 19 one-row bands, which miss ~20%),
    since a version shares only ~10 of 128 positions. Here every position is a band of one
    row, and the inverted index keeps, per paper, only its ``num_perm - m + 1`` rarest tokens
    (the *prefix*, rarity frozen when the index is built; the ``m - 1`` most common tokens,
    hashes of stock phrases, are left out). Two papers sharing ``m`` tokens always share one
    of their prefixes (the rarest shared token is in both), so **no pair at or above the
    threshold is missed: the probability of missing a pair at the threshold is 0**, and
    candidates are then compared exactly, position by position. Decisions are therefore
    those of ``relate`` (ties between equally similar papers go to the one indexed first, as
    ``relate`` takes the first in its ``others`` order). Leaving out the common tokens cut the
    token collisions of SciFact's 5,183 abstracts 17-fold (947k to 55k).

    Postings are a sorted ``uint64`` array searched with ``searchsorted``; papers added
    later go to a small unsorted tail merged in when it grows, and removed papers are masked
    until the next compaction. ``save``/``load`` write ``.npy`` files and JSON (no pickle).
    """

    def __init__(self, threshold: float, num_perm: int = 128) -> None:
        self.threshold = float(threshold)
        self.num_perm = int(num_perm)
        self.min_matches = min_matches(self.threshold, self.num_perm)
        self._shift = np.arange(self.num_perm, dtype=np.uint64) << np.uint64(32)
        self._sigs = np.zeros((0, self.num_perm), dtype=np.uint32)
        self._alive = np.zeros(0, dtype=bool)
        self._ids: list[str | None] = []
        self._row: dict[str, int] = {}
        self._keys = np.zeros(0, dtype=np.uint64)  # sorted prefix tokens...
        self._posting_rows = np.zeros(0, dtype=np.int64)  # ...and the row of each
        self._tail_keys: list[np.ndarray] = []
        self._tail_rows: list[np.ndarray] = []
        self._tail_size = 0
        self._common_keys = np.zeros(0, dtype=np.uint64)  # tokens seen twice or more at build
        self._common_counts = np.zeros(0, dtype=np.int64)

    # ----------------------------------------------------------------------------- building
    @classmethod
    def build(
        cls,
        signatures: Mapping[str, Signature],
        threshold: float,
        num_perm: int | None = None,
    ) -> VersionIndex:
        """The index of ``signatures`` (doc id -> hash values, e.g. ``DocRecord.minhash``),
        in their order, for relations at or above ``threshold`` (the version threshold)."""
        ids = list(signatures)
        sigs = _matrix([signatures[i] for i in ids], num_perm)
        index = cls(threshold, sigs.shape[1] if ids else (num_perm or 128))
        index._load_rows(ids, sigs, np.ones(len(ids), dtype=bool))
        if ids:
            index._index_all(sigs)
        return index

    def add(self, doc_id: str, sig: Signature) -> None:
        """Index (or re-index) one paper; its rows are found by the next query at once."""
        values = _matrix([sig], self.num_perm)
        if doc_id in self._row:
            self.remove(doc_id)
        row = len(self._ids)
        self._grow(row + 1)
        self._sigs[row] = values[0]
        self._alive[row] = True
        self._ids.append(doc_id)
        self._row[doc_id] = row
        prefix = self._prefix(self._tokens(values))[0]
        self._tail_keys.append(np.sort(prefix))
        self._tail_rows.append(np.full(prefix.size, row, dtype=np.int64))
        self._tail_size += prefix.size
        if self._tail_size > max(65_536, self._keys.size // 16):
            self._merge_tail()

    def remove(self, doc_id: str) -> None:
        """Forget one paper (a missing id is a no-op); compacts once half the rows are gone."""
        row = self._row.pop(doc_id, None)
        if row is None:
            return
        self._alive[row] = False
        self._ids[row] = None
        if len(self._ids) > 1024 and len(self._row) < len(self._ids) // 2:
            self._compact()

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row

    @property
    def postings(self) -> int:
        """Tokens held in the inverted index (each paper's prefix), removed papers' included."""
        return int(self._keys.size + self._tail_size)

    def doc_ids(self) -> list[str]:
        """The indexed papers, in index order (the order ties are broken in)."""
        return [i for i in self._ids if i is not None]

    # ------------------------------------------------------------------------------ queries
    def candidates(self, sig: Signature) -> list[str]:
        """Papers sharing at least one prefix token with ``sig``, in index order: a superset
        of those reaching the threshold (a paper indexed under the same id is included)."""
        rows = self._candidate_rows(self._prefix(self._tokens(_matrix([sig], self.num_perm)))[0])
        return [self._name(r) for r in rows.tolist()]

    def similar(self, sig: Signature, exclude: str | None = None) -> list[tuple[str, float]]:
        """``(doc id, Jaccard estimate)`` of every paper at or above the threshold, in index
        order; the estimate is ``MinHash.jaccard``'s (equal positions / ``num_perm``)."""
        values = _matrix([sig], self.num_perm)
        rows = self._candidate_rows(self._prefix(self._tokens(values))[0])
        if exclude is not None and exclude in self._row:
            rows = rows[rows != self._row[exclude]]
        counts = np.count_nonzero(self._sigs[rows] == values[0], axis=1)
        keep = counts >= self.min_matches
        return [
            (self._name(r), c / self.num_perm)
            for r, c in zip(rows[keep].tolist(), counts[keep].tolist(), strict=True)
        ]

    def relate(
        self,
        doc_id: str,
        duplicate_threshold: float,
        version_threshold: float,
        eligible: Callable[[str], bool] | None = None,
        sig: Signature | None = None,
    ) -> Relation | None:
        """``relate(doc_id, sig, others, ...)`` where ``others`` are the indexed papers other
        than ``doc_id`` that ``eligible`` accepts (all when None); ``sig`` defaults to the
        indexed signature of ``doc_id``."""
        self._check(version_threshold)
        if sig is None:
            if doc_id not in self._row:
                raise KeyError(f"{doc_id!r} is not in the version index: add it or pass sig")
            sig = self._sigs[self._row[doc_id]]
        found = self.similar(sig, exclude=doc_id)
        return strongest(doc_id, found, duplicate_threshold, version_threshold, eligible)

    def relate_all(
        self,
        doc_ids: Sequence[str],
        duplicate_threshold: float,
        version_threshold: float,
        eligible: Callable[[str], bool] | None = None,
    ) -> Iterator[tuple[str, Relation | None]]:
        """``(doc id, relation)`` for each of ``doc_ids`` (indexed papers; others get None), in
        order, as the quadratic loop would decide them one after the other: the candidate
        pairs are found in one pass, and ``eligible`` is asked lazily, when each paper's turn
        comes, so decisions the caller makes for earlier papers count for later ones."""
        self._check(version_threshold)
        wanted = [self._row[i] for i in doc_ids if i in self._row]
        neighbours = self._neighbours(np.asarray(wanted, dtype=np.int64))
        for doc_id in doc_ids:
            row = self._row.get(doc_id)
            if row is None:
                yield doc_id, None
                continue
            found = [(self._name(r), c / self.num_perm) for r, c in neighbours.get(row, [])]
            yield doc_id, strongest(doc_id, found, duplicate_threshold, version_threshold, eligible)

    def pairs(self) -> list[tuple[str, str, float]]:
        """Every pair of indexed papers at or above the threshold, ``(first, second,
        estimate)`` with ``first`` indexed before ``second``, in index order."""
        a, b, counts = self._self_join(None)
        order = np.lexsort((b, a))
        return [
            (self._name(x), self._name(y), c / self.num_perm)
            for x, y, c in zip(
                a[order].tolist(), b[order].tolist(), counts[order].tolist(), strict=True
            )
        ]

    # -------------------------------------------------------------------------- persistence
    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (created): ``.npy`` arrays and ``version_index.json``."""
        self._merge_tail()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        n = len(self._ids)
        arrays = {
            "signatures": self._sigs[:n],
            "alive": self._alive[:n],
            "keys": self._keys,
            "posting_rows": self._posting_rows,
            "common_keys": self._common_keys,
            "common_counts": self._common_counts,
        }
        for name, array in arrays.items():
            np.save(folder / f"version_{name}.npy", array, allow_pickle=False)
        meta = {
            "format": _FORMAT,
            "threshold": self.threshold,
            "num_perm": self.num_perm,
            "ids": self._ids,
        }
        (folder / "version_index.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> VersionIndex:
        """The index ``save`` wrote into ``folder``."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / "version_index.json").read_text(encoding="utf-8"))
            arrays = {
                name: np.load(folder / f"version_{name}.npy", allow_pickle=False)
                for name in _ARRAYS
            }
        except (OSError, ValueError) as e:
            raise ValueError(
                f"no readable version index in {folder} ({e}): rebuild it with VersionIndex.build"
            ) from e
        if meta.get("format") != _FORMAT:
            raise ValueError(
                f"version index in {folder} has format {meta.get('format')}, not {_FORMAT}: "
                "rebuild it with VersionIndex.build"
            )
        index = cls(meta["threshold"], meta["num_perm"])
        ids = [i if i is None else str(i) for i in meta["ids"]]
        index._load_rows(ids, arrays["signatures"].astype(np.uint32), arrays["alive"])
        index._keys, index._posting_rows = arrays["keys"], arrays["posting_rows"]
        index._common_keys = arrays["common_keys"]
        index._common_counts = arrays["common_counts"]
        return index

    # ----------------------------------------------------------------------------- internals
    def _check(self, version_threshold: float) -> None:
        if min_matches(version_threshold, self.num_perm) < self.min_matches:
            raise ValueError(
                f"version index built for threshold {self.threshold}, asked for "
                f"{version_threshold}: rebuild it with the lower threshold"
            )

    def _name(self, row: int) -> str:
        name = self._ids[row]
        if name is None:
            raise KeyError(f"row {row} of the version index was removed")
        return name

    def _load_rows(self, ids: Sequence[str | None], sigs: np.ndarray, alive: np.ndarray) -> None:
        self._ids = list(ids)
        self._sigs, self._alive = sigs, alive.astype(bool)
        self._row = {i: r for r, i in enumerate(ids) if i is not None and alive[r]}

    def _grow(self, rows: int) -> None:
        if rows <= len(self._sigs):
            return
        size = max(rows, 2 * len(self._sigs), 64)
        sigs = np.zeros((size, self.num_perm), dtype=np.uint32)
        sigs[: len(self._sigs)] = self._sigs
        alive = np.zeros(size, dtype=bool)
        alive[: len(self._alive)] = self._alive
        self._sigs, self._alive = sigs, alive

    def _tokens(self, sigs: np.ndarray) -> np.ndarray:
        """(position, value) as one ``uint64`` per position: position << 32 | value."""
        return sigs.astype(np.uint64) | self._shift

    def _prefix(self, tokens: np.ndarray) -> np.ndarray:
        """Each row's prefix tokens, rarity looked up in the build-time counts."""
        weight = np.ones(tokens.shape, dtype=np.int64)
        if self._common_keys.size:
            at = np.minimum(np.searchsorted(self._common_keys, tokens), self._common_keys.size - 1)
            hit = self._common_keys[at] == tokens
            weight[hit] = self._common_counts[at[hit]]
        keep = self._prefix_mask(weight)
        return tokens[keep].reshape(len(tokens), -1)

    def _prefix_mask(self, weight: np.ndarray) -> np.ndarray:
        """Which of each row's tokens are its ``num_perm - m + 1`` rarest, by (count,
        position): one fixed order on tokens for all papers, which the no-miss argument needs."""
        keep = self.num_perm - self.min_matches + 1
        mask = np.ones(weight.shape, dtype=bool)
        if keep < self.num_perm:
            order = weight * self.num_perm + np.arange(self.num_perm, dtype=np.int64)
            drop = np.argpartition(order, keep - 1, axis=1)[:, keep:]
            np.put_along_axis(mask, drop, False, axis=1)
        return mask

    def _index_all(self, sigs: np.ndarray) -> None:
        """Postings and token counts of every row, sorting each position's column once."""
        n, p = sigs.shape
        cols = np.ascontiguousarray(sigs.T)
        order = np.argsort(cols, axis=1, kind="stable")
        values = np.take_along_axis(cols, order, axis=1)
        new = np.ones((p, n), dtype=bool)
        new[:, 1:] = values[:, 1:] != values[:, :-1]
        starts = np.flatnonzero(new)
        lengths = np.diff(np.r_[starts, p * n])
        keys = values.astype(np.uint64) | self._shift[:, None]  # sorted: position, then value
        flat = keys.ravel()
        common = lengths > 1
        self._common_keys = flat[starts[common]]
        self._common_counts = lengths[common].astype(np.int64)
        weight = np.empty((p, n), dtype=np.int64)
        np.put_along_axis(weight, order, np.repeat(lengths, lengths).reshape(p, n), axis=1)
        keep = np.take_along_axis(self._prefix_mask(weight.T).T, order, axis=1)
        self._keys, self._posting_rows = flat[keep.ravel()], order[keep].astype(np.int64)
        self._tail_keys, self._tail_rows, self._tail_size = [], [], 0

    def _merge_tail(self) -> None:
        if not self._tail_size:
            return
        keys = np.concatenate([self._keys, *self._tail_keys])
        rows = np.concatenate([self._posting_rows, *self._tail_rows])
        order = np.argsort(keys, kind="stable")
        self._keys, self._posting_rows = keys[order], rows[order]
        self._tail_keys, self._tail_rows, self._tail_size = [], [], 0

    def _compact(self) -> None:
        """Rebuild over the live rows (in their order), dropping the removed ones."""
        live = [r for r, i in enumerate(self._ids) if i is not None and self._alive[r]]
        fresh = VersionIndex.build(
            {self._name(r): self._sigs[r] for r in live},
            self.threshold,
            self.num_perm,
        )
        self.__dict__.update(fresh.__dict__)

    def _candidate_rows(self, prefix: np.ndarray) -> np.ndarray:
        lo = np.searchsorted(self._keys, prefix, side="left")
        hi = np.searchsorted(self._keys, prefix, side="right")
        found = [self._posting_rows[_ranges(lo, hi)]]
        if self._tail_size:
            keys, rows = np.concatenate(self._tail_keys), np.concatenate(self._tail_rows)
            found.append(rows[np.isin(keys, prefix)])
        rows = np.unique(np.concatenate(found))
        return rows[self._alive[rows]]

    def _neighbours(self, wanted: np.ndarray) -> dict[int, list[tuple[int, int]]]:
        """Row -> [(other row, equal positions)] at or above the threshold, others in index
        order, for the rows in ``wanted``."""
        a, b, counts = self._self_join(wanted)
        mask = np.zeros(len(self._ids), dtype=bool)
        mask[wanted] = True
        src = np.concatenate([a, b])
        dst = np.concatenate([b, a])
        cnt = np.concatenate([counts, counts])
        keep = mask[src]
        src, dst, cnt = src[keep], dst[keep], cnt[keep]
        order = np.lexsort((dst, src))
        out: dict[int, list[tuple[int, int]]] = {}
        for s, d, c in zip(
            src[order].tolist(), dst[order].tolist(), cnt[order].tolist(), strict=True
        ):
            out.setdefault(s, []).append((d, c))
        return out

    def _self_join(self, wanted: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row pairs ``(a < b)`` sharing ``min_matches`` positions or more, and how many; with
        ``wanted``, only the pairs touching one of those rows."""
        self._merge_tail()
        live = self._alive[self._posting_rows]
        keys, rows = self._keys[live], self._posting_rows[live]
        empty = np.zeros(0, dtype=np.int64)
        if keys.size < 2:
            return empty, empty, empty
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        lengths = np.diff(np.r_[starts, keys.size])
        shared = lengths > 1
        starts, lengths = starts[shared], lengths[shared]
        mask = None
        if wanted is not None:
            mask = np.zeros(len(self._ids), dtype=bool)
            mask[wanted] = True
            seen = np.r_[0, np.cumsum(mask[rows])]
            touched = seen[starts + lengths] - seen[starts] > 0
            starts, lengths = starts[touched], lengths[touched]
        n = np.int64(max(len(self._ids), 1))
        codes = [empty]
        batch = np.cumsum(lengths * (lengths - 1) // 2) // _PAIR_BATCH
        cuts = np.flatnonzero(np.diff(batch)) + 1
        for chunk in np.split(np.arange(starts.size), cuts):
            if not chunk.size:
                continue
            left, right = _run_pairs(starts[chunk], lengths[chunk])
            ra, rb = rows[left], rows[right]
            pair = np.minimum(ra, rb) * n + np.maximum(ra, rb)
            if mask is not None:
                pair = pair[mask[ra] | mask[rb]]
            codes.append(pair)
        pairs = np.concatenate(codes)
        pairs.sort()
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if pairs.size else pairs
        return self._verify(pairs // n, pairs % n)

    def _verify(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pairs with ``min_matches`` equal positions or more, and how many. The low byte
        of each value (1/4 of the memory, cache-resident) first rules out most candidates:
        equal values have equal low bytes, so no pair at the threshold is lost."""
        low = (self._sigs & 0xFF).astype(np.uint8)
        none = np.zeros(0, dtype=np.int64)
        out_a, out_b, out_c = [none], [none], [none]
        for i in range(0, a.size, _VERIFY_BATCH):
            pa, pb = a[i : i + _VERIFY_BATCH], b[i : i + _VERIFY_BATCH]
            maybe = np.count_nonzero(low[pa] == low[pb], axis=1) >= self.min_matches
            pa, pb = pa[maybe], pb[maybe]
            counts = np.count_nonzero(self._sigs[pa] == self._sigs[pb], axis=1)
            keep = counts >= self.min_matches
            out_a.append(pa[keep])
            out_b.append(pb[keep])
            out_c.append(counts[keep].astype(np.int64))
        return np.concatenate(out_a), np.concatenate(out_b), np.concatenate(out_c)


_ARRAYS = ("signatures", "alive", "keys", "posting_rows", "common_keys", "common_counts")


def _matrix(signatures: Sequence[Signature], num_perm: int | None) -> np.ndarray:
    """Signatures as an (n, num_perm) ``uint32`` matrix; a wrong length or a value beyond
    32 bits (a scheme other than ``affine32``) is refused."""
    if not len(signatures):
        return np.zeros((0, num_perm or _NUM_PERM), dtype=np.uint32)
    try:
        sigs = np.asarray(signatures, dtype=np.uint64)
    except (ValueError, OverflowError, TypeError) as e:
        raise ValueError(f"signatures must be equal-length lists of hash values ({e})") from e
    if sigs.ndim != 2 or (num_perm is not None and sigs.shape[1] != num_perm):
        raise ValueError(
            f"signatures must each have {num_perm or 'the same number of'} hash values "
            f"(got shape {sigs.shape}): recompute them with dedup.signature"
        )
    if sigs.size and int(sigs.max()) >= _MAX_VALUE:
        raise ValueError("hash values beyond 32 bits: recompute them with dedup.signature")
    return sigs.astype(np.uint32)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The indices ``lo[i]..hi[i]-1`` of every range, concatenated."""
    sizes = hi - lo
    total = int(sizes.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(lo - np.cumsum(sizes) + sizes, sizes)
    return starts + np.arange(total)


def _run_pairs(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j), i < j, of positions inside each run ``starts[k] .. starts[k]+lengths[k]``."""
    members = _ranges(starts, starts + lengths)
    run_end = np.repeat(starts + lengths, lengths)
    after = run_end - members - 1  # partners to the right of each member
    left = np.repeat(members, after)
    right = left + 1 + _ranges(np.zeros_like(after), after)
    return left, right
