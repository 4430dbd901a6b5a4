"""The quality targets an eval report is held to (issue 22), and how each is read off a run.

Targets are benchmark figures shown next to the measured ones, never timed tests: a report
says which are met, so a shortfall is visible rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .models import ModeRun

Summary = dict[str, float | None]


@dataclass(frozen=True)
class Target:
    """One figure to reach: ``key`` of a split's summary (or of one type's), at least ``goal``."""

    label: str
    key: str
    goal: float | None
    at_most: bool = False
    qtype: str | None = None
    note: str = ""

    def actual(self, run: ModeRun, split: str | None) -> float | None:
        if split is None:
            summary, types = run.overall, run.by_type
        else:
            summary, types = run.by_split.get(split, {}), run.by_split_type.get(split, {})
        if self.qtype is not None:
            summary = types.get(self.qtype, {})
        return summary.get(self.key)

    def met(self, value: float | None) -> bool | None:
        if value is None or self.goal is None:
            return None
        return value <= self.goal if self.at_most else value >= self.goal - 1e-9

    @property
    def goal_text(self) -> str:
        if self.goal is None:
            return self.note
        sign = "≤" if self.at_most else "≥"
        if self.key == "latency_p50":  # measured in seconds, shown in ms like the figure
            return f"{sign} {self.goal * 1000:g} ms"
        return f"{sign} {self.goal:g}"


# Issue 22 sets the figures it names; the rest keep their issue 12 goals.
GOLD: tuple[Target, ...] = (
    Target("Key-fact recall, overall", "key_fact_recall", 0.75),
    Target("First-citation key-fact recall", "first_citation_key_fact_recall", 0.65),
    Target("Key-fact recall, why/how", "key_fact_recall", 0.65, qtype="why/how"),
    Target("Key-fact recall, comparison", "key_fact_recall", 0.65, qtype="comparison"),
    Target("Abstention accuracy (unanswerable)", "abstention_accuracy", 0.80),
    Target("False-abstention rate (answerable)", "false_abstention_rate", 0.08, at_most=True),
    Target("Citation precision", "citation_precision", 0.80),
    Target(
        "Median answer length, factoid + numeric (words)",
        "median_answer_words_factoid_numeric",
        60,
        at_most=True,
    ),
    Target("Citations that are exact quotes", "exact_citation_share", 1.0),
    Target("Latency p50 per question", "latency_p50", 0.025, at_most=True),
)
EVERYDAY: tuple[Target, ...] = (
    Target("Key-fact recall, overall", "key_fact_recall", 0.70),
    Target(
        "First-citation key-fact recall",
        "first_citation_key_fact_recall",
        None,
        note="(shown)",
    ),
    Target("Abstention accuracy (unanswerable)", "abstention_accuracy", 0.75),
    Target("False-abstention rate (answerable)", "false_abstention_rate", 0.10, at_most=True),
    Target("Citation precision", "citation_precision", None, note="(shown)"),
    Target("Citations that are exact quotes", "exact_citation_share", 1.0),
    Target("Latency p50 per question", "latency_p50", None, note="(shown)"),
)
SECOND_DOMAIN: tuple[Target, ...] = (
    Target("Abstention accuracy (unanswerable)", "abstention_accuracy", 0.70),
    Target("Key-fact recall, overall", "key_fact_recall", 0.60),
    Target(
        "First-citation key-fact recall",
        "first_citation_key_fact_recall",
        None,
        note="(shown)",
    ),
    Target("False-abstention rate (answerable)", "false_abstention_rate", 0.10, at_most=True),
    Target("Key-fact recall, why/how", "key_fact_recall", None, qtype="why/how", note="(shown)"),
    Target(
        "Key-fact recall, comparison", "key_fact_recall", None, qtype="comparison", note="(shown)"
    ),
    Target("Citation precision", "citation_precision", None, note="(shown)"),
    Target("Citations that are exact quotes", "exact_citation_share", 1.0),
    Target("Latency p50 per question", "latency_p50", None, note="(shown)"),
)
Kind = Literal["gold", "everyday", "second-domain"]
KINDS: dict[str, tuple[Target, ...]] = {
    "gold": GOLD,
    "everyday": EVERYDAY,
    "second-domain": SECOND_DOMAIN,
}
# Which targets a question file is held to, by its file name; any other file: gold.
KIND_BY_FILE: dict[str, Kind] = {
    "gold_qa.jsonl": "gold",
    "everyday_qa.jsonl": "everyday",
    "scifact_qa.jsonl": "second-domain",
}


def targets_for(kind: Kind | str) -> tuple[Target, ...]:
    """The targets of ``kind`` (an unknown kind gets the gold set's)."""
    return KINDS.get(kind, GOLD)


def kind_for(qa: Path | str, corpus: Path | str | None = None) -> Kind:
    """Which targets a run is judged by: another corpus is the second domain; else by file name."""
    if corpus is not None:
        return "second-domain"
    return KIND_BY_FILE.get(Path(qa).name, "gold")
