"""One percentile definition for every figure the project prints (eval latency, benchmarks).

Linear interpolation between the closest ranks: numpy's default, Hyndman & Fan's type 7, what
most tools report as p50/p95. SEE: https://numpy.org/doc/stable/reference/generated/numpy.percentile.html
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of the defined values; None when there are none.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.5
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0-100, not {q}")
    kept = np.asarray([v for v in values if v is not None], dtype=float)
    return float(np.percentile(kept, q)) if kept.size else None


def percentiles(
    values: Iterable[float | None], qs: Sequence[float] = (50, 95)
) -> dict[str, float | None]:
    """``{"p50": ..., "p95": ...}`` for the given percentiles."""
    kept = [v for v in values if v is not None]
    return {f"p{q:g}": percentile(kept, q) for q in qs}
