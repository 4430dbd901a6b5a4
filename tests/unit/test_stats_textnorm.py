"""The shared percentile and text normaliser."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.benchmarks._measure import percentiles as bench_percentiles
from assistant.stats import percentile, percentiles
from assistant.textnorm import normalise

pytestmark = pytest.mark.unit


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5
    assert percentile(values, 95) == pytest.approx(np.percentile(values, 95))
    assert percentile([7.0], 95) == 7.0
    assert percentile([None, None], 50) is None
    assert percentiles([1.0, None, 3.0]) == {"p50": 2.0, "p95": pytest.approx(2.9)}
    with pytest.raises(ValueError, match="0-100"):
        percentile(values, 0.95 * 1000)


def test_benchmarks_use_the_same_definition_in_milliseconds() -> None:
    seconds = [0.010, 0.020, 0.030, 0.040]
    out = bench_percentiles(seconds)
    assert out == {"p50_ms": 25.0, "p95_ms": 38.5, "n": 4}


def test_normalise_joins_renderings_of_one_text() -> None:
    raw = "The  “Belt and Road”\ncon-\nstruction ﬁnance\u00ad"
    assert normalise(raw) == 'the "belt and road" construction finance'
    assert normalise("high-quality") == "high-quality"  # a real compound keeps its hyphen
