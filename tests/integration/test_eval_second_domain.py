"""The second-domain check end to end: SciFact questions over a SciFact subset, real model.

The abstracts the questions cite plus 100 others (about 300 chunks) stand in for the 5,183,
so the path `assistant eval --qa eval/scifact_qa.jsonl --corpus …` is exercised without the
full ingest: JSON lines to papers, their own index under the cache dir, the same metrics.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import Settings
from assistant.cli import app
from assistant.evaluation import EvalConfig, evaluate
from tests.conftest import REPO

pytestmark = pytest.mark.integration

QA = REPO / "eval" / "scifact_qa.jsonl"
SCIFACT = REPO / "tests" / "data" / "scifact_subset.jsonl"  # see tests/data/README.md
OTHERS = 100


def _subset(dest: Path) -> tuple[Path, set[str]]:
    items = [json.loads(line) for line in QA.read_text(encoding="utf-8").splitlines()]
    cited = {e["doc"].removesuffix(".md") for i in items for e in i["evidence"]}
    lines = SCIFACT.read_text(encoding="utf-8").splitlines()
    keep = [ln for ln in lines if json.loads(ln)["_id"] in cited]
    keep += [ln for ln in lines if json.loads(ln)["_id"] not in cited][:OTHERS]
    dest.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return dest, {json.loads(ln)["_id"] for ln in keep}


def test_scifact_questions_over_a_subset_score_and_reuse_the_index(tmp_path: Path) -> None:
    corpus, ids = _subset(tmp_path / "scifact-subset.jsonl")
    settings = Settings()  # paths point into tmp (conftest); the corpus gets its own folder
    report, out = evaluate(EvalConfig(qa=QA, corpus=corpus, out=tmp_path / "r"), settings=settings)

    assert report.corpus == str(corpus) and report.targets == "second-domain"
    assert report.items == 40 and report.splits == ["test"]
    index = Path(str(report.index["path"]))
    assert index.is_relative_to(settings.paths.cache_dir) and report.index["chunks"]
    run = report.run()
    o = run.overall
    figures = (
        "key_fact_recall",
        "abstention_accuracy",
        "false_abstention_rate",
        "citation_precision",
        "exact_citation_share",
        "latency_p50",
        "recall@5",
    )
    for key in figures:
        assert o[key] is not None, key
        assert key == "latency_p50" or 0 <= o[key] <= 1, (key, o[key])
    assert o["recall@10"] > 0.5  # the cited abstracts are found among the others
    assert {"why/how", "comparison", "unanswerable"} <= set(run.by_split_type["test"])
    answered = [r for r in run.items if not r.abstained and r.citations]
    cited_docs = {str(c["doc_id"]) for r in answered for c in r.citations}
    assert answered and {d.removesuffix(".md") for d in cited_docs} <= ids  # ids as file names
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "second-domain targets" in md and "Abstention accuracy (unanswerable) | ≥ 0.7" in md
    assert "| False-abstention rate (answerable) | ≤ 0.1 |" in md
    assert o["first_citation_key_fact_recall"] is not None

    # the CLI on the same corpus reuses that index (same folder, same build)
    result = CliRunner().invoke(
        app,
        ["eval", "--qa", str(QA), "--corpus", str(corpus), "--limit", "6", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "test nDCG@10" in result.output and "abstention" in result.output
    again = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert again["index"]["path"] == report.index["path"]
    assert again["index"]["built_at"] == report.index["built_at"]
