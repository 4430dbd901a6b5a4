"""Small measuring helpers: latency percentiles, resident memory, a stopwatch."""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from ..stats import percentile

T = TypeVar("T")


@dataclass
class Stopwatch:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Stopwatch]:
    """``with timed() as t: ...`` then ``t.seconds``."""
    watch = Stopwatch()
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


def latencies(fn: Callable[[T], object], items: Iterable[T]) -> list[float]:
    """Seconds taken by ``fn(item)`` for each item, one call at a time."""
    out: list[float] = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds (``assistant.stats``' definition), and the sample size."""
    if not seconds:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "n": 0}
    ms = [s * 1000 for s in seconds]
    return {
        "p50_ms": round(percentile(ms, 50) or 0.0, 2),
        "p95_ms": round(percentile(ms, 95) or 0.0, 2),
        "n": len(ms),
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory.

    Linux: ``VmHWM`` of ``/proc/self/status``; ``getrusage``'s ``ru_maxrss`` is avoided there
    because a process started by fork + exec (multiprocessing's spawn) inherits its parent's
    peak in it. Elsewhere: ``ru_maxrss`` (KiB on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def rss_mb() -> float:
    """Resident memory now (Linux ``/proc``; elsewhere the peak, the best stdlib can do)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return peak_rss_mb()
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def machine() -> dict[str, object]:
    """What the figures were measured on: they only compare on the same machine and load."""
    import platform

    import faiss
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpus": os.cpu_count(),
        "load_avg_1m": round(load[0], 2),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "platform": platform.platform(),
    }
