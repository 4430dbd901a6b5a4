"""The eval harness end to end on a slice of the real gold set, real index and real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app
from assistant.evaluation import EvalConfig, evaluate
from assistant.evaluation.calibration import abstain_threshold
from tests.conftest import REPO

pytestmark = pytest.mark.integration

GOLD = REPO / "eval" / "gold_qa.jsonl"
EVERYDAY = REPO / "eval" / "everyday_qa.jsonl"
PNG = b"\x89PNG\r\n\x1a\n"


def _in_unit_range(values: dict[str, float | None]) -> list[str]:
    skip = {"items", "median_answer_words", "median_answer_words_factoid_numeric", "latency_p50"}
    return [k for k, v in values.items() if k not in skip and v is not None and not 0 <= v <= 1]


def test_a_small_slice_writes_a_complete_report(real_assistant: Assistant, tmp_path: Path) -> None:
    out = tmp_path / "report"
    report, folder = evaluate(EvalConfig(qa=GOLD, limit=8, out=out), assistant=real_assistant)
    assert folder == out
    run = report.run()
    assert len(run.items) == 8
    assert "unanswerable" in {r.type for r in run.items}
    assert _in_unit_range(run.overall) == []
    for by_type in run.by_type.values():
        assert _in_unit_range(by_type) == []
    assert run.overall["recall@10"] is not None and run.overall["abstention_accuracy"] is not None
    assert report.splits == ["dev", "test"] and set(run.by_split) <= {"dev", "test"}
    assert run.overall["exact_citation_share"] == 1.0  # quotes are the papers' text
    assert run.overall["first_citation_key_fact_recall"] is not None
    assert report.targets == "gold"
    assert (run.overall["latency_p50"] or 0) > 0
    assert all(len(r.retrieved) <= 10 and r.timings.get("total", 0) > 0 for r in run.items)

    md = (out / "report.md").read_text(encoding="utf-8")
    for heading in ("## Overall", "## By question type", "worst items", "## Latency", "targets"):
        assert heading in md
    assert "| First-citation key-fact recall | ≥ 0.65 |" in md
    assert "| Latency p50 per question | ≤ 25 ms |" in md
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    item = data["runs"][0]["items"][0]
    for key in ("retrieved", "quote_ranks", "metrics", "answer", "abstained", "timings"):
        assert key in item
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["latency.png", "metrics_by_type.png", "recall_at_k.png"]
    assert all((out / p).read_bytes().startswith(PNG) for p in pngs)


def test_everyday_questions_are_held_to_their_own_targets(
    real_assistant: Assistant, tmp_path: Path
) -> None:
    report, out = evaluate(
        EvalConfig(qa=EVERYDAY, limit=6, out=tmp_path / "everyday"), assistant=real_assistant
    )
    assert report.targets == "everyday" and report.splits == ["dev", "test"]
    run = report.run()
    assert "unanswerable" in {r.type for r in run.items} and len(run.items) == 6
    assert _in_unit_range(run.overall) == []
    answerable = [r for r in run.items if r.answerable]
    assert all(r.metrics["first_citation_key_fact_recall"] is not None for r in answerable)
    abstained = [r for r in answerable if r.abstained]
    assert all(r.metrics["first_citation_key_fact_recall"] == 0.0 for r in abstained)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Issue 22 everyday-question targets" in md
    assert "| Key-fact recall, overall | ≥ 0.7 |" in md
    assert "| False-abstention rate (answerable) | ≤ 0.1 |" in md


@pytest.mark.slow
def test_calibration_recommends_values_from_the_sweep(
    real_assistant: Assistant, tmp_path: Path
) -> None:
    config = EvalConfig(
        qa=GOLD,
        limit=6,
        out=tmp_path / "cal",
        calibrate=True,
        k_grid=[4],
        thresholds=[0.0, 0.45, 2.0],
    )
    report, out = evaluate(config, assistant=real_assistant)
    cal = report.calibration
    assert cal is not None
    assert [r.mode for r in report.runs] == ["hybrid", "dense", "bm25"]
    assert cal.mode in ("hybrid", "dense", "bm25") and "nDCG@10" in cal.mode_reason
    default_k = real_assistant.settings.retrieval.top_k  # the grid always includes the current k
    assert {(p.mode, p.k) for p in cal.points} == {(cal.mode, 4), (cal.mode, default_k)}
    assert [s.k for s in cal.ks] == sorted({4, default_k})
    above_all = [p for p in cal.points if p.threshold == 2.0]
    assert all(p.abstention_accuracy == 1.0 and p.false_abstention_rate == 1.0 for p in above_all)
    assert cal.best in cal.points and cal.best.mode == cal.mode
    # the sweep reproduces what the real run at the current settings did
    settings = real_assistant.settings
    same = next(
        p
        for p in cal.points
        if (p.k, p.threshold) == (settings.retrieval.top_k, abstain_threshold(real_assistant))
    )
    run = report.run(cal.mode)
    assert same.abstention_accuracy == run.overall["abstention_accuracy"]
    assert same.false_abstention_rate == run.overall["false_abstention_rate"]
    assert same.key_fact_recall == pytest.approx(run.overall["key_fact_recall"])
    report_md = (out / "report.md").read_text(encoding="utf-8")
    assert "**Recommendation:**" in report_md and f"top_k = {cal.best.k}" in report_md
    assert (out / "calibration.png").is_file()


@pytest.mark.slow
def test_cli_compares_modes_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    args = ["eval", "--limit", "6", "--out", str(out), "--compare", "dense", "bm25", "hybrid"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [r["mode"] for r in data["runs"]] == ["hybrid", "dense", "bm25"]
    assert "| metric | hybrid | dense | bm25 |" in (out / "report.md").read_text(encoding="utf-8")


def test_cli_rejects_modes_without_compare_and_a_missing_gold_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "dense"])
    assert result.exit_code != 0 and "--compare" in result.output
    result = CliRunner().invoke(app, ["eval", "--qa", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 1 and "--qa" in result.output
