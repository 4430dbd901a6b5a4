"""Out-of-sample reporting: splits, the issue 12 figures and targets, and another corpus."""

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
from assistant.evaluation.targets import GOLD, SECOND_DOMAIN, Target
from assistant.types import Citation, Passage

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
