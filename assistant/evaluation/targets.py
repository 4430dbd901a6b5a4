"""The quality targets an eval report is held to (issue 12), and how each is read off a run.

Targets are benchmark figures shown next to the measured ones, never timed tests: a report
says which are met, so a shortfall is visible rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
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
        return f"{'≤' if self.at_most else '≥'} {self.goal:g}"


GOLD: tuple[Target, ...] = (
    Target("Key-fact recall, overall", "key_fact_recall", 0.80),
    Target("Key-fact recall, why/how", "key_fact_recall", 0.65, qtype="why/how"),
    Target("Key-fact recall, comparison", "key_fact_recall", 0.65, qtype="comparison"),
    Target("Abstention accuracy (unanswerable)", "abstention_accuracy", 0.80),
    Target("False-abstention rate (answerable)", "false_abstention_rate", 0.05, at_most=True),
    Target("Citation precision", "citation_precision", 0.80),
    Target(
        "Median answer length, factoid + numeric (words)",
        "median_answer_words_factoid_numeric",
        60,
        at_most=True,
    ),
    Target("Citations that are exact quotes", "exact_citation_share", 1.0),
    Target("Latency p50 per question", "latency_p50", None, note="≤ before + 10 ms"),
)
SECOND_DOMAIN: tuple[Target, ...] = (
    Target("Abstention accuracy (unanswerable)", "abstention_accuracy", 0.70),
    Target("Key-fact recall, overall", "key_fact_recall", 0.60),
    Target("False-abstention rate (answerable)", "false_abstention_rate", None, note="(shown)"),
    Target("Key-fact recall, why/how", "key_fact_recall", None, qtype="why/how", note="(shown)"),
    Target(
        "Key-fact recall, comparison", "key_fact_recall", None, qtype="comparison", note="(shown)"
    ),
    Target("Citation precision", "citation_precision", None, note="(shown)"),
    Target("Citations that are exact quotes", "exact_citation_share", 1.0),
    Target("Latency p50 per question", "latency_p50", None, note="(shown)"),
)


def targets_for(kind: Literal["gold", "second-domain"] | str) -> tuple[Target, ...]:
    return SECOND_DOMAIN if kind == "second-domain" else GOLD
