"""The speed targets a bench run is judged against (issue 15), read from ``results.json``.

Each target names the figure's keys in ``results.json``, so a run says "met" or by how much it
missed, in ``results.md``, in ``bench/README.md`` and in the run's history line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LARGEST = -1  # in a key path: the largest size of ``scale``
_AT_SCALE = 1_000_000  # the size the scale targets are stated for
_ASK = ("startup", "search", "ask")


@dataclass(frozen=True)
class Target:
    figure: str
    keys: tuple[str | int, ...]  # path into results.json
    limit: float
    at_most: bool  # True: the figure must be ≤ limit; False: ≥ limit
    unit: str
    at_scale: bool = False  # judged only on the 1M-chunk stage
    size_keys: tuple[str | int, ...] = ()  # judged only when the figure there...
    size: int = 0  # ...equals this (the size the issue states the target for)


TARGETS = (
    Target("ingestion, cold: pipeline / raw encode", ("ingestion", "ratio_cold"), 0.9, False, "×"),
    Target("ingestion, warm rebuild: pipeline / raw", ("ingestion", "ratio_warm"), 20, False, "×"),
    Target("fresh-process `assistant ask` (wall)", ("startup", "cli_ask_s"), 2.5, True, "s"),
    Target("`ask` new question, corpus, p50", (*_ASK, "p50_ms"), 20, True, "ms"),
    Target("`ask` new question, corpus, p95", (*_ASK, "p95_ms"), 40, True, "ms"),
    Target(
        "`ask` new question at 1M chunks, p50",
        ("scale", LARGEST, "search", "ask", "p50_ms"),
        40,
        True,
        "ms",
        at_scale=True,
    ),
    Target(
        "`Assistant.load` at 1M chunks", ("scale", LARGEST, "serve", "load_s"), 3, True, "s", True
    ),
    Target(
        "serving RSS at 1M chunks", ("scale", LARGEST, "serve", "rss_mb"), 2560, True, "MB", True
    ),
    # issue 21: version detection and a real second corpus
    Target(
        "version detection, 100k papers: build + all pairs",
        ("dedup", "detect_all_s"),
        60,
        True,
        "s",
        size_keys=("dedup", "papers"),
        size=100_000,
    ),
    Target(
        "version detection, 100k papers: add one paper, p95",
        ("dedup", "add_p95_ms"),
        1000,
        True,
        "ms",
        size_keys=("dedup", "papers"),
        size=100_000,
    ),
    Target(
        "SciFact ingest (5,183 abstracts), cold",
        ("scifact_ingest", "cold_s"),
        300,
        True,
        "s",
        size_keys=("scifact_ingest", "abstracts"),
        size=5_183,
    ),
    Target(
        "50 MB text file ingest, peak memory (pipeline + model)",
        ("large_file", "estimated_peak_mb"),
        2048,
        True,
        "MB",
        size_keys=("large_file", "mb"),
        size=50,
    ),
    Target(
        "SciFact ingest: CPU per chunk / raw encode",
        ("scifact_ingest", "cpu_ratio"),
        1.3,
        True,
        "×",
    ),
)


@dataclass(frozen=True)
class Verdict:
    target: Target
    value: float | None  # None: not measured in this run
    met: bool | None
    note: str  # "met", "missed by …", or why it was not judged

    def as_dict(self) -> dict[str, Any]:
        t = self.target
        return {
            "figure": t.figure,
            "target": f"{'≤' if t.at_most else '≥'} {t.limit:g} {t.unit}",
            "value": self.value,
            "met": self.met,
            "note": self.note,
        }


def figure(results: dict[str, Any], keys: tuple[str | int, ...]) -> float | None:
    """The number at ``keys`` in ``results``, or None where the run did not measure it."""
    node: Any = results
    for key in keys:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return float(node) if isinstance(node, int | float) else None


def judge(results: dict[str, Any]) -> list[Verdict]:
    """Every target against this run's figures."""
    largest = (results.get("scale") or [{}])[-1].get("chunks")
    out = []
    for t in TARGETS:
        value = figure(results, t.keys)
        if value is None:
            out.append(Verdict(t, None, None, "not measured in this run"))
        elif t.at_scale and largest != _AT_SCALE:
            out.append(Verdict(t, value, None, f"not judged: largest size {largest:,} chunks"))
        elif t.size_keys and (size := figure(results, t.size_keys)) != t.size:
            out.append(Verdict(t, value, None, f"not judged: measured at {size or 0:,.0f}"))
        else:
            out.append(Verdict(t, value, *_compare(t, value)))
    return out


def _compare(t: Target, value: float) -> tuple[bool, str]:
    met = value <= t.limit if t.at_most else value >= t.limit
    if met:
        return True, "met"
    gap = abs(value - t.limit)
    return False, f"missed by {number(gap)} {t.unit} ({gap / t.limit:.0%})"


def number(value: float) -> str:
    """Three significant figures, without an exponent: 0.908, 17.8, 225, 4,914."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"
