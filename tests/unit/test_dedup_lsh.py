"""``VersionIndex`` decides exactly what the quadratic ``relate`` decides, only faster.

Each check runs both on the same signatures, in an ingest's order, with the eligibility an
ingest applies (papers already made aliases are no one's match), and compares every decision.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.benchmarks.dedup_scale import planted_corpus
from assistant.corpus.cleaning import clean_text
from assistant.corpus.dedup import Relation, from_hashvalues, relate, signature
from assistant.corpus.version_index import VersionIndex, min_matches
from assistant.settings import Settings
from tests.conftest import CORPUS

pytestmark = pytest.mark.unit

DUP, VER = Settings().corpus.duplicate_threshold, Settings().corpus.version_threshold
Eligible = Callable[[str], bool]
Decider = Callable[[Sequence[str], Eligible], Iterator[tuple[str, Relation | None]]]


def _quadratic(sigs: dict[str, list[int]]) -> Decider:
    mh = {k: from_hashvalues(v) for k, v in sigs.items()}

    def decide(order: Sequence[str], eligible: Eligible) -> Iterator[tuple[str, Relation | None]]:
        for doc_id in order:
            others = {k: v for k, v in mh.items() if eligible(k) and k != doc_id}
            yield doc_id, relate(doc_id, mh[doc_id], others, DUP, VER)

    return decide


def _indexed(sigs: dict[str, list[int]]) -> Decider:
    index = VersionIndex.build(sigs, threshold=VER)
    return lambda order, eligible: index.relate_all(order, DUP, VER, eligible)


def _ingest_decisions(decide: Decider, order: Sequence[str]) -> list[tuple[str, object]]:
    """An ingest's loop, reduced: a duplicate turns the later paper into an alias, which then
    stops being anyone's match (so decisions depend on the ones before)."""
    alias_of: dict[str, str] = {}
    out: list[tuple[str, object]] = []
    for doc_id, rel in decide(order, lambda k: k not in alias_of):
        alias_of.pop(doc_id, None)
        if rel is not None and rel.kind == "duplicate":
            alias_of[doc_id] = rel.other
        out.append((doc_id, rel and (rel.other, rel.kind, rel.similarity)))
    return out


def _assert_same(sigs: dict[str, list[int]], order: Sequence[str]) -> list[tuple[str, object]]:
    expected = _ingest_decisions(_quadratic(sigs), order)
    assert _ingest_decisions(_indexed(sigs), order) == expected
    return expected


def _text_sig(text: str) -> list[int]:
    return [int(v) for v in signature(clean_text(text).text).hashvalues]


def test_bundled_corpus_decisions_equal_quadratic() -> None:
    files = sorted(CORPUS.glob("*.txt"))
    sigs = {f.name[:3]: _text_sig(f.read_text(encoding="utf-8")) for f in files}
    decisions = dict(_assert_same(sigs, list(sigs)))
    # the corpus's known relations: 000/001 one paper in two renderings, 002/004 versions
    assert decisions == {
        "000": ("001", "duplicate", 1.0),
        "001": None,  # 000 became its alias above, so it is no one's match any more
        "002": ("004", "version", 15 / 128),
        "003": None,
        "004": ("002", "version", 15 / 128),
    }
    index = VersionIndex.build(sigs, threshold=VER)
    assert [p[:2] for p in index.pairs()] == [("000", "001"), ("002", "004")]


def _words(rng: random.Random, n: int) -> list[str]:
    vocab = [f"w{i}" for i in range(3000)]
    common = ["the", "of", "in", "this", "study", "we", "show", "that", "and", "a"]
    return [rng.choice(common) if rng.random() < 0.3 else rng.choice(vocab) for _ in range(n)]


def test_synthetic_near_duplicates_and_versions_equal_quadratic() -> None:
    rng = random.Random(3)
    texts: dict[str, str] = {}
    for i in range(60):
        base = _words(rng, rng.randint(80, 300))
        texts[f"d{i}"] = " ".join(base)
        if i % 3 == 0:  # a near-identical rendering: a few words changed
            copy = [w if rng.random() > 0.02 else "x" for w in base]
            texts[f"d{i}-dup"] = " ".join(copy)
        if i % 4 == 0:  # a version: a share of it kept, the rest rewritten
            keep = rng.uniform(0.1, 0.7)
            texts[f"d{i}-v"] = " ".join(w if rng.random() < keep else "y" + w for w in base)
    sigs = {k: _text_sig(v) for k, v in texts.items()}
    order = list(sigs)
    rng.shuffle(order)
    decided = [rel for _, rel in _assert_same(sigs, order)]
    kinds = [rel[1] for rel in decided if rel is not None]
    assert "duplicate" in kinds and "version" in kinds


def test_planted_signatures_at_the_threshold_equal_quadratic() -> None:
    corpus = planted_corpus(1500, seed=5, duplicates=0.05, versions=0.1)
    sigs = {f"p{i}": row for i, row in enumerate(corpus.signatures.tolist())}
    decided = dict(_assert_same(sigs, list(sigs)[-300:]))
    assert sum(rel is not None for rel in decided.values()) >= 200
    found = {(a, b) for a, b, _ in VersionIndex.build(sigs, threshold=VER).pairs()}
    assert all((f"p{a}", f"p{b}") in found for a, b in corpus.pairs.tolist())


def _random_sigs(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2**32, size=(n, 128), dtype=np.uint64)


def test_pair_at_the_threshold_found_even_through_the_commonest_tokens() -> None:
    m = min_matches(VER, 128)
    assert m == 11 and m / 128 >= VER > (m - 1) / 128
    sigs = _random_sigs(400)
    sigs[:300, : m - 1] = 7  # 300 papers share positions 0..m-2: the index's commonest tokens
    a, b = _random_sigs(2, seed=1)
    a[: m - 1] = b[: m - 1] = 7  # the pair shares those common tokens...
    a[100], b[100] = 5, 5  # ...and exactly one rare one: m positions in all
    table = {f"r{i}": row for i, row in enumerate(sigs)} | {"a": a, "b": b}
    index = VersionIndex.build(table, threshold=VER)
    assert "b" in index.candidates(a)
    rel = index.relate("a", DUP, VER)
    assert rel is not None and (rel.other, rel.kind, rel.similarity) == ("b", "version", m / 128)
    b[100] = 6  # one position fewer: below the threshold, unrelated
    index.add("b", b)
    assert index.relate("a", DUP, VER) is None


def test_add_remove_and_tie_order() -> None:
    sigs = _random_sigs(50)
    index = VersionIndex.build({f"r{i}": row for i, row in enumerate(sigs)}, threshold=VER)
    twin = sigs[7].copy()
    twin[:20] = 1  # 108 of 128 equal to r7: a duplicate
    index.add("new", twin)
    rel = index.relate("new", DUP, VER)
    assert rel is not None and (rel.other, rel.kind) == ("r7", "duplicate")
    index.add("r7-copy", sigs[7])  # r7 and its copy are equally similar to "new"
    assert index.relate("new", DUP, VER).other == "r7"  # type: ignore[union-attr]
    index.remove("r7")
    assert "r7" not in index and len(index) == 51
    assert index.relate("new", DUP, VER).other == "r7-copy"  # type: ignore[union-attr]
    assert index.relate("new", DUP, VER, eligible=lambda k: k != "r7-copy") is None
    index.remove("missing")  # no-op
    assert [p[:2] for p in index.pairs()] == [("new", "r7-copy")]


def test_removing_most_papers_compacts_and_keeps_answers() -> None:
    sigs = _random_sigs(1200)
    sigs[1100] = sigs[5]
    index = VersionIndex.build({f"r{i}": row for i, row in enumerate(sigs)}, threshold=VER)
    for i in range(10, 1000):
        index.remove(f"r{i}")
    assert len(index) == 210 and index.doc_ids()[:10] == [f"r{i}" for i in range(10)]
    assert [p[:2] for p in index.pairs()] == [("r5", "r1100")]


def test_save_load_round_trip(tmp_path: Path) -> None:
    corpus = planted_corpus(600, seed=2, duplicates=0.05, versions=0.05)
    sigs = {f"p{i}": row for i, row in enumerate(corpus.signatures)}
    index = VersionIndex.build(sigs, threshold=VER)
    index.add("late", corpus.signatures[3])
    index.remove("p4")
    index.save(tmp_path / "vi")
    assert not [f for f in (tmp_path / "vi").iterdir() if f.suffix not in (".npy", ".json")]
    loaded = VersionIndex.load(tmp_path / "vi")
    assert loaded.doc_ids() == index.doc_ids() and loaded.pairs() == index.pairs()
    assert ("p3", "late", 1.0) in loaded.pairs()
    for doc_id in ("late", "p599", "p100"):
        assert loaded.relate(doc_id, DUP, VER) == index.relate(doc_id, DUP, VER)
    loaded.add("later", corpus.signatures[10])
    assert loaded.relate("later", DUP, VER).other == "p10"  # type: ignore[union-attr]
    (tmp_path / "vi" / "version_keys.npy").unlink()
    with pytest.raises(ValueError, match="rebuild it"):
        VersionIndex.load(tmp_path / "vi")


def test_refusals_say_what_to_do() -> None:
    index = VersionIndex.build({"a": _random_sigs(1)[0]}, threshold=VER)
    with pytest.raises(ValueError, match="rebuild it with the lower threshold"):
        index.relate("a", DUP, VER / 2)
    with pytest.raises(ValueError, match="128 hash values"):
        index.add("short", [1, 2, 3])
    with pytest.raises(ValueError, match="beyond 32 bits"):
        index.add("wide", [2**40] * 128)
    with pytest.raises(KeyError, match="not in the version index"):
        index.relate("nobody", DUP, VER)
    assert list(index.relate_all(["nobody", "a"], DUP, VER)) == [("nobody", None), ("a", None)]
    assert VersionIndex.build({}, threshold=VER).pairs() == []
