"""Keyword top-k: only chunks sharing a word are ranked, best first, ties in position order."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.retrieval.search import BM25Index, top_positive

pytestmark = pytest.mark.unit


def test_best_first_ties_by_position_zeros_never_returned() -> None:
    scores = np.array([0, 2.0, 0, 5.0, 2.0, 0, 2.0, 1.0], dtype=np.float32)
    assert top_positive(scores, 3) == [(3, 5.0), (1, 2.0), (4, 2.0)]  # a tie cut at k
    assert top_positive(scores, 10) == [(3, 5.0), (1, 2.0), (4, 2.0), (6, 2.0), (7, 1.0)]
    assert top_positive(np.zeros(5, np.float32), 3) == []


def test_matches_a_full_sort_on_many_ties() -> None:
    rng = np.random.default_rng(0)
    scores = np.zeros(100_000, np.float32)
    hits = rng.choice(len(scores), 3000, replace=False)
    scores[hits] = rng.integers(1, 6, len(hits))  # five distinct scores: ties everywhere
    order = sorted(np.flatnonzero(scores), key=lambda p: (-scores[p], p))[:40]
    assert [p for p, _ in top_positive(scores, 40)] == order


def test_search_ranks_what_bm25s_scores() -> None:
    texts = ["rail freight to Europe", "rail port in Chengdu", "tea and pandas", "rail rail rail"]
    index = BM25Index(texts)
    found = index.search("rail freight", 3)
    scores = index.model.get_scores(["rail", "freight"])
    assert [p for p, _ in found] == sorted(np.flatnonzero(scores), key=lambda p: (-scores[p], p))[
        :3
    ]
    assert found[0][0] == 0 and 2 not in [p for p, _ in found]
    assert index.search("zebra", 3) == []


def test_bm25s_is_imported_without_numba_and_numba_still_imports() -> None:
    """In a fresh interpreter: the keyword index loads and searches without numba in the
    process, and ``import numba`` afterwards (ranx does) still works."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from assistant.retrieval.search import BM25Index\n"
        "index = BM25Index(['rail freight to Europe', 'tea and pandas'])\n"
        "assert index.search('rail', 2)[0][0] == 0\n"
        "assert 'numba' not in sys.modules, 'numba imported'\n"
        "import numba\n"
        "print('ok', numba.__version__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-1500:]
