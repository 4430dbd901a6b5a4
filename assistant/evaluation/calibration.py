"""Calibration for ``assistant eval --calibrate``: pick k, then sweep the abstain threshold.

One never-abstaining run per k gives every threshold's outcome (the answer depends on the
threshold only through the abstain gate), so the sweep costs no extra questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..core import Assistant
from ..errors import AssistantError
from ..settings import RetrievalMode
from . import metrics as m
from .models import Calibration, CalibrationPoint, KSummary

if TYPE_CHECKING:
    from .harness import Progress, _Gold

NEVER_ABSTAIN = -1.0
# Differences below about one answerable item's worth (1/136) are noise, not a reason to choose.
TOLERANCE = 0.01  # below any sentence score: the answerer always answers, with its confidence


def abstain_threshold(bot: Assistant) -> float:
    """The threshold in force: the setting, else the reader model's (chosen on dev data)."""
    set_ = bot.settings.answer.abstain_threshold
    if set_ is not None:
        return set_
    return float(getattr(bot.answerer, "threshold", 0.0))


def calibrate(
    bot: Assistant,
    gold: _Gold,
    mode: RetrievalMode,
    k_grid: Sequence[int],
    thresholds: Sequence[float],
    progress: Progress | None = None,
    mode_reason: str = "",
) -> Calibration:
    """Pick k, then sweep abstain_threshold, from one never-abstaining run per k.

    The extractive answer does not depend on the threshold except through the abstain gate
    (``confidence < threshold``), so one run at threshold -1 gives every threshold's outcome.
    k is the smallest whose answers hold nearly the most key facts before any abstention
    (within ``TOLERANCE``); the threshold, among those nearly as good as the best combined
    score at that k, the one with the most credit.
    """
    current = bot.settings
    k_grid = sorted({*k_grid, current.retrieval.top_k})
    thresholds = sorted({*thresholds, abstain_threshold(bot)})
    points: list[CalibrationPoint] = []
    ks: list[KSummary] = []
    confidences: dict[int, list[tuple[bool, float | None]]] = {}
    for k in k_grid:
        outcomes = _outcomes(bot, gold, mode, k, progress)
        confidences[k] = [(ok, conf) for ok, conf, _ in outcomes]
        ks.append(_k_summary(k, outcomes))
        points += [threshold_point(mode, k, t, outcomes) for t in thresholds]
    k_best = pick_k(ks)
    best = pick_threshold([p for p in points if p.k == k_best])
    now = (current.retrieval.mode, current.retrieval.top_k, abstain_threshold(bot))
    return Calibration(
        mode=mode,
        mode_reason=mode_reason,
        ks=ks,
        points=points,
        best=best,
        current=next((p for p in points if (p.mode, p.k, p.threshold) == now), None),
        confidences=confidences,
    )


def pick_k(ks: Sequence[KSummary]) -> int:
    """The smallest k whose answers hold nearly the most key facts."""
    top = max(s.key_fact_recall or 0 for s in ks)
    return min(s.k for s in ks if (s.key_fact_recall or 0) >= top - TOLERANCE)


def pick_threshold(points: Sequence[CalibrationPoint]) -> CalibrationPoint:
    """Among thresholds nearly as good as the best combined score, the most credit."""
    top = max(p.combined or 0 for p in points)
    near = [p for p in points if (p.combined or 0) >= top - TOLERANCE]
    return max(near, key=lambda p: (round(p.credit or 0, 4), p.combined or 0))


def _k_summary(k: int, outcomes: list[tuple[bool, float | None, float | None]]) -> KSummary:
    answered = m.mean((f or 0.0) if conf is not None else 0.0 for ok, conf, f in outcomes if ok)
    auroc = m.auroc(
        [conf for ok, conf, _ in outcomes if ok], [conf for ok, conf, _ in outcomes if not ok]
    )
    return KSummary(k=k, key_fact_recall=answered, auroc=auroc)


def _outcomes(
    bot: Assistant, gold: _Gold, mode: RetrievalMode, k: int, progress: Progress | None
) -> list[tuple[bool, float | None, float | None]]:
    """(answerable, confidence or None if it abstains anyway, key-fact recall if answered)."""
    settings = bot.settings.with_updates(
        retrieval={"mode": mode, "top_k": k}, answer={"abstain_threshold": NEVER_ABSTAIN}
    )
    clone = bot.with_settings(settings)
    out: list[tuple[bool, float | None, float | None]] = []
    for n, item in enumerate(gold.items):
        if progress:
            progress(f"calibrate {mode} k={k}", n, len(gold.items))
        answer = clone.ask(item.question)
        if not answer.abstained and answer.confidence is None:
            raise AssistantError(
                f"the {answer.answerer} answerer reports no confidence, so its abstain threshold "
                "cannot be swept: run --calibrate with --answerer extractive"
            )
        conf = None if answer.abstained else answer.confidence
        out.append((item.answerable, conf, m.key_fact_recall(item.key_facts, answer.text)))
    return out


def threshold_point(
    mode: str, k: int, threshold: float, outcomes: list[tuple[bool, float | None, float | None]]
) -> CalibrationPoint:
    abstained = [conf is None or conf < threshold for _, conf, _ in outcomes]
    scores = m.abstention_scores([ok for ok, _, _ in outcomes], abstained)
    kf = m.mean(
        0.0 if a else (f or 0.0) for (ok, _, f), a in zip(outcomes, abstained, strict=True) if ok
    )
    acc = scores["abstention_accuracy"]
    combined = None if acc is None or kf is None else m.harmonic_mean(acc, kf)
    credit = m.mean(
        (float(a) if not ok else (0.0 if a else (f or 0.0)))
        for (ok, _, f), a in zip(outcomes, abstained, strict=True)
    )
    return CalibrationPoint(
        mode=mode,
        k=k,
        threshold=threshold,
        abstention_accuracy=acc,
        false_abstention_rate=scores["false_abstention_rate"],
        balanced_accuracy=scores["balanced_abstention_accuracy"],
        key_fact_recall=kf,
        combined=combined,
        credit=credit,
    )


# -- entry point ---------------------------------------------------------------------------
