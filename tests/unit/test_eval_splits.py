"""Out-of-sample reporting: splits, the issue 22 figures and targets, another corpus, the table."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant import Settings
from assistant.errors import AssistantError
from assistant.evaluation import corpora
from assistant.evaluation.harness import _citation, _split_groups, in_split, summarise
from assistant.evaluation.models import EvalReport, GoldItem, ItemResult, ModeRun
from assistant.evaluation.report import render_markdown
from assistant.evaluation.targets import (
    EVERYDAY,
    GOLD,
    SECOND_DOMAIN,
    Target,
    kind_for,
    targets_for,
)
from assistant.types import Citation, Passage
from tests.conftest import REPO

pytestmark = pytest.mark.unit


def _gold(iid: str, split: str | None, type_: str = "numeric") -> GoldItem:
    answerable = type_ != "unanswerable"
    return GoldItem(
        id=iid,
        question="How much?",
        answer="10%" if answerable else "",
        evidence=[{"doc": "a.md", "quote": "grew 10%"}] if answerable else [],
        type=type_,
        key_facts=["10%"] if answerable else [],
        split=split,
    )


def _result(
    iid: str,
    type_: str,
    split: str | None,
    words: int | None = None,
    exact: tuple[bool, ...] = (),
    kf: float | None = None,
    abstained: bool = False,
    total: float = 0.1,
) -> ItemResult:
    return ItemResult(
        id=iid,
        type=type_,
        split=split,
        question="q",
        mode="hybrid",
        retrieved=[],
        retrieved_docs=[],
        quote_ranks=[],
        unit_ranks=[],
        metrics={"key_fact_recall": kf} if kf is not None else {},
        abstained=abstained,
        answer_words=words,
        citations=[{"marker": 1, "exact": e} for e in exact],
        timings={"total": total},
    )


# -- choosing items ------------------------------------------------------------------------


def test_a_split_keeps_only_its_items_and_both_keeps_all() -> None:
    items = [_gold("a", "dev"), _gold("b", "test"), _gold("c", "dev")]
    assert [i.id for i in in_split(items, "dev")] == ["a", "c"]
    assert [i.id for i in in_split(items, "test")] == ["b"]
    assert [i.id for i in in_split(items, "both")] == ["a", "b", "c"]
    assert [i.id for i in in_split(items, "all")] == ["a", "b", "c"]


def test_asking_for_a_split_nobody_has_says_how_to_fix_it() -> None:
    with pytest.raises(AssistantError, match="eval/split.py"):
        in_split([_gold("a", None)], "dev")


# -- the figures ---------------------------------------------------------------------------


def test_summary_holds_answer_length_exact_quotes_and_latency() -> None:
    results = [
        _result("f1", "factoid", "test", words=20, exact=(True, True), kf=1.0, total=0.2),
        _result("n1", "numeric", "test", words=40, exact=(True, False), kf=0.5, total=0.4),
        _result("l1", "list", "test", words=200, exact=(True,), kf=1.0, total=0.6),
        _result("u1", "unanswerable", "test", abstained=True, total=0.8),
    ]
    s = summarise(results)
    assert s["median_answer_words_factoid_numeric"] == 30  # the list answer is left out
    assert s["median_answer_words"] == 40
    assert s["exact_citation_share"] == pytest.approx(4 / 5)  # pooled over citations
    assert s["latency_p50"] == pytest.approx(0.5)
    assert s["abstention_accuracy"] == 1.0 and s["items"] == 4
    assert summarise(results[3:])["exact_citation_share"] is None  # no citations: no figure


def test_results_group_by_split_and_unsplit_items_join_none() -> None:
    results = [_result("a", "numeric", "test"), _result("b", "numeric", "dev")]
    results.append(_result("c", "numeric", None))
    groups = _split_groups(results)
    assert list(groups) == ["dev", "test"]
    assert [r.id for r in groups["dev"]] == ["b"]


def test_a_citation_is_exact_only_when_the_paper_holds_it_at_its_offsets() -> None:
    text = "Alpha. The rate fell to 3% in 2020. Omega."
    bot = SimpleNamespace(
        snapshot=SimpleNamespace(documents={"a.md": SimpleNamespace(clean_text=text)})
    )
    passage = Passage(chunk_id="c", doc_id="a.md", text=text, start=0, end=len(text))
    quote = "The rate fell to 3% in 2020."
    start = text.index(quote)
    right = Citation(
        marker=1, passage=passage, doc_id="a.md", quote=quote, start=start, end=start + len(quote)
    )
    shifted = right.model_copy(update={"start": start + 1, "end": start + 1 + len(quote)})
    elsewhere = right.model_copy(update={"doc_id": "b.md"})
    assert _citation(bot, right)["exact"] is True  # type: ignore[arg-type]
    assert _citation(bot, shifted)["exact"] is False  # type: ignore[arg-type]
    assert _citation(bot, elsewhere)["exact"] is False  # type: ignore[arg-type]


# -- targets ---------------------------------------------------------------------------------


def test_targets_compare_in_the_right_direction() -> None:
    at_least = Target("kf", "key_fact_recall", 0.8)
    at_most = Target("fa", "false_abstention_rate", 0.05, at_most=True)
    assert at_least.met(0.8) and not at_least.met(0.79) and at_least.met(None) is None
    assert at_most.met(0.05) and not at_most.met(0.06)
    assert Target("p50", "latency_p50", None, note="x").met(0.1) is None
    keys = {(t.key, t.qtype) for t in GOLD}
    assert ("key_fact_recall", "why/how") in keys and ("key_fact_recall", "comparison") in keys
    assert {t.goal for t in SECOND_DOMAIN if t.key == "abstention_accuracy"} == {0.7}


def _goals(targets: tuple[Target, ...]) -> dict[str, tuple[float | None, bool]]:
    return {t.key: (t.goal, t.at_most) for t in targets if t.qtype is None and t.goal is not None}


def test_issue_22_goals_per_question_set() -> None:
    gold = _goals(GOLD)
    assert gold["key_fact_recall"] == (0.75, False)
    assert gold["first_citation_key_fact_recall"] == (0.65, False)
    assert gold["abstention_accuracy"] == (0.80, False)
    assert gold["false_abstention_rate"] == (0.08, True)
    assert gold["exact_citation_share"] == (1.0, False)
    assert gold["latency_p50"] == (0.025, True)  # seconds, as latency_p50 is measured
    latency = next(t for t in GOLD if t.key == "latency_p50")
    assert latency.goal_text == "≤ 25 ms" and latency.met(0.024) and not latency.met(0.03)
    assert _goals(EVERYDAY) == {
        "key_fact_recall": (0.70, False),
        "abstention_accuracy": (0.75, False),
        "false_abstention_rate": (0.10, True),
        "exact_citation_share": (1.0, False),
    }
    assert _goals(SECOND_DOMAIN) == {
        "key_fact_recall": (0.60, False),
        "abstention_accuracy": (0.70, False),
        "false_abstention_rate": (0.10, True),
        "exact_citation_share": (1.0, False),
    }


def test_the_question_file_picks_its_targets_and_another_corpus_is_second_domain() -> None:
    assert kind_for(Path("eval/gold_qa.jsonl")) == "gold"
    assert kind_for("/tmp/x/everyday_qa.jsonl") == "everyday"
    assert kind_for("eval/scifact_qa.jsonl") == "second-domain"
    assert kind_for("mine.jsonl") == "gold"
    assert kind_for("eval/everyday_qa.jsonl", corpus="c.jsonl") == "second-domain"
    assert targets_for("everyday") is EVERYDAY and targets_for("unknown") is GOLD


def _report(targets: str, splits: list[str]) -> EvalReport:
    items = [
        _result("d1", "why/how", "dev", words=30, exact=(True,), kf=1.0),
        _result("t1", "why/how", "test", words=80, exact=(True, False), kf=0.5),
        _result("t2", "numeric", "test", words=10, exact=(True,), kf=1.0),
        _result("t3", "unanswerable", "test", abstained=False),
    ]
    groups = _split_groups(items)
    run = ModeRun(
        mode="hybrid",
        settings={},
        items=items,
        overall=summarise(items),
        by_type={t: summarise([r for r in items if r.type == t]) for t in {r.type for r in items}},
        by_split={sp: summarise(rs) for sp, rs in groups.items()},
        by_split_type={
            sp: {t: summarise([r for r in rs if r.type == t]) for t in {r.type for r in rs}}
            for sp, rs in groups.items()
        },
    )
    return EvalReport(
        created="now",
        qa="qa.jsonl",
        items=4,
        types={},
        primary="hybrid",
        config={},
        index={},
        runs=[run],
        splits=splits,
        targets=targets,
    )


def _row(md: str, label: str) -> list[str]:
    line = next(ln for ln in md.splitlines() if ln.startswith(f"| {label} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_report_shows_targets_per_split_judged_on_test() -> None:
    md = render_markdown(_report("gold", ["dev", "test"]))
    assert "| figure | target | dev | test | met? |" in md
    assert _row(md, "Key-fact recall, why/how") == [
        "Key-fact recall, why/how",
        "≥ 0.65",
        "1.000",
        "0.500",
        "**no**",
    ]
    assert _row(md, "Abstention accuracy (unanswerable)")[2:] == ["–", "0.000", "**no**"]
    assert _row(md, "Median answer length, factoid + numeric (words)")[3:] == ["10", "yes"]
    assert _row(md, "Citations that are exact quotes")[3:] == ["0.667", "**no**"]
    assert "## By split (hybrid)" in md and "| why/how | 1.000 (n=1) | 0.500 (n=1) |" in md
    assert _row(md, "Latency p50 per question")[1:] == ["≤ 25 ms", "100 ms", "100 ms", "**no**"]
    assert _row(md, "First-citation key-fact recall")[1] == "≥ 0.65"


def test_unanswerable_items_are_counted_by_trap_per_split() -> None:
    report = _report("everyday", ["dev", "test"])
    run = report.run()
    traps = [
        ("u1", "dev", "wrong-year", True),
        ("u2", "test", "wrong-year", False),
        ("u3", "test", "wrong-year", True),
        ("u4", "test", "not-in-papers", True),
    ]
    for iid, split, trap, abstained in traps:
        item = _result(iid, "unanswerable", split, abstained=abstained)
        run.items.append(item.model_copy(update={"trap": trap}))
    md = render_markdown(report)
    assert "**Unanswerable items by trap** (abstained / items)" in md
    assert "| wrong-year | 1/1 | 1/2 |" in md and "| not-in-papers | – | 1/1 |" in md
    assert "by trap" not in render_markdown(_report("gold", ["dev", "test"]))
    item = GoldItem.model_validate({**_gold("e1", "dev", "unanswerable").model_dump(), "trap": "x"})
    assert item.trap == "x"


def test_everyday_report_holds_its_own_targets() -> None:
    md = render_markdown(_report("everyday", ["dev", "test"]))
    assert "## Issue 22 everyday-question targets" in md
    assert _row(md, "Key-fact recall, overall")[1:] == ["≥ 0.7", "1.000", "0.750", "yes"]
    assert _row(md, "False-abstention rate (answerable)")[1] == "≤ 0.1"
    assert not any(ln.startswith("| Key-fact recall, why/how |") for ln in md.splitlines())


def test_second_domain_report_pools_items_without_splits() -> None:
    md = render_markdown(_report("second-domain", []))
    assert "second-domain targets" in md and "| figure | target | all items | met? |" in md
    assert _row(md, "Key-fact recall, overall")[1:] == ["≥ 0.6", "0.833", "yes"]
    assert "## By split" not in md


# -- another corpus ----------------------------------------------------------------------------


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_jsonl_corpus_becomes_titled_markdown_papers(tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "c.jsonl", [{"_id": "42", "title": "T.", "text": "Body text."}])
    assert corpora.read_jsonl_corpus(src) == {"42.md": "# T.\n\nBody text.\n"}


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("{not json", "c.jsonl:1"),
        ('{"title": "x"}', "_id"),
        ('{"_id": "../x", "text": "t"}', "_id"),
    ],
)
def test_a_bad_corpus_line_is_one_clear_error(tmp_path: Path, line: str, why: str) -> None:
    src = tmp_path / "c.jsonl"
    src.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(AssistantError, match=why.replace(".", r"\.")):
        corpora.read_jsonl_corpus(src)


def test_missing_corpus_file_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(AssistantError, match="--corpus"):
        corpora.read_jsonl_corpus(tmp_path / "nope.jsonl")


def test_corpus_folders_are_keyed_by_content_and_kept_apart_from_the_papers(
    tmp_path: Path,
) -> None:
    base = Settings(paths={"cache_dir": tmp_path / "cache"})
    a = _jsonl(tmp_path / "a.jsonl", [{"_id": "1", "title": "A", "text": "one two three"}])
    settings = corpora.prepare_corpus(a, base)
    papers = settings.paths.corpus_dir
    assert papers.is_relative_to(tmp_path / "cache" / corpora.FOLDER)
    assert settings.paths.index_dir.parent == papers.parent != base.paths.index_dir.parent
    assert sorted(p.name for p in papers.iterdir()) == ["1.md", corpora.LEXICON]
    lexicon = (papers / corpora.LEXICON).read_text(encoding="utf-8")
    assert all(ln.startswith("#") for ln in lexicon.splitlines())  # empty: comments only
    written = (papers / "1.md").stat().st_mtime_ns
    assert corpora.prepare_corpus(a, base).paths == settings.paths  # same content, same place
    assert (papers / "1.md").stat().st_mtime_ns == written  # not rewritten
    b = _jsonl(tmp_path / "a.jsonl", [{"_id": "1", "title": "A", "text": "changed"}])
    assert corpora.corpus_settings(b, base).paths.corpus_dir != papers


def test_cli_refuses_an_unknown_split_before_loading_anything() -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    result = CliRunner().invoke(app, ["eval", "--split", "train"])
    assert result.exit_code == 2 and "both, dev, test or all" in result.output


# -- the quality table (eval/quality_table.py) ---------------------------------------------


def _table_module():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "quality_table", REPO / "eval" / "quality_table.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results(folder: Path, kind: str, by_split: dict[str, dict[str, float | None]]) -> Path:
    folder.mkdir(parents=True)
    other = {"mode": "dense", "by_split": {sp: {} for sp in by_split}}  # not the detail mode
    data = {
        "primary": "hybrid",
        "targets": kind,
        "splits": list(by_split),
        "runs": [other, {"mode": "hybrid", "by_split": by_split}],
    }
    (folder / "results.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def test_quality_table_reads_each_sets_splits_and_bolds_test_values_that_meet_targets(
    tmp_path: Path,
) -> None:
    qt = _table_module()
    gold = _results(
        tmp_path / "gold",
        "gold",
        {
            "dev": {"key_fact_recall": 0.9, "latency_p50": 0.010},
            "test": {
                "key_fact_recall": 0.75,
                "first_citation_key_fact_recall": 0.6,
                "false_abstention_rate": 0.08,
                "exact_citation_share": 1.0,
                "latency_p50": 0.0304,
            },
        },
    )
    scifact = _results(tmp_path / "sci", "second-domain", {"test": {"key_fact_recall": 0.61234}})
    md = qt.render({"gold": gold, "everyday": tmp_path / "missing", "SciFact": scifact})
    header = (
        "| figure | target | gold dev | gold test | everyday dev | everyday test | SciFact test |"
    )
    assert header in md

    def row(label: str) -> list[str]:
        line = next(ln for ln in md.splitlines() if ln.startswith(f"| {label} |"))
        return [c.strip() for c in line.strip("|").split("|")]

    assert row("key-fact recall") == [
        "key-fact recall",
        "gold ≥ 0.75; everyday ≥ 0.7; SciFact ≥ 0.6",
        "0.900",  # dev is never bold: targets are judged on test
        "**0.750**",
        "–",
        "–",
        "**0.612**",
    ]
    assert row("first-citation key-fact recall")[1:4] == ["gold ≥ 0.65", "–", "0.600"]
    assert row("false abstention")[3] == "**0.080**"  # at most: the goal itself is met
    assert row("exact quotes")[1:4] == ["≥ 1", "–", "**1.000**"]
    assert row("latency p50")[1:4] == ["gold ≤ 25 ms", "10 ms", "30 ms"]
    assert row("citation precision")[3] == "–"
    assert "everyday: no results.json" in md and str(tmp_path / "missing") in md


def test_quality_table_cli_prints_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qt = _table_module()
    gold = _results(tmp_path / "g", "gold", {"dev": {}, "test": {"abstention_accuracy": 0.8}})
    args = ["--gold", str(gold), "--everyday", str(tmp_path / "e"), "--scifact", str(tmp_path)]
    assert qt.main(args) == 0
    out = capsys.readouterr().out
    assert "| abstention accuracy |" in out and "**0.800**" in out
    assert out.count("no results.json") == 2
