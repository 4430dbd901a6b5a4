"""The shipped gold QA set is valid, and eval/validate.py catches the errors it is meant to."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GOLD = REPO / "eval" / "gold_qa.jsonl"
CORPUS = REPO / "corpus"
SCIFACT_QA = REPO / "eval" / "scifact_qa.jsonl"
# every abstract the questions cite is in the subset (tests/data/README.md)
SCIFACT = REPO / "tests" / "data" / "scifact_subset.jsonl"
PAPERS = {
    "001": "001_e32c79ad1fa0be66.txt",
    "002": "002_b656026ce0905ff7.txt",
    "003": "003_8f09d066e0b864c5.txt",
    "004": "004_b411ba9664f361c8.txt",
}


def _load_validator():
    # eval/ is not a package: import the script from its path.
    spec = importlib.util.spec_from_file_location("gold_validate", REPO / "eval" / "validate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


V = _load_validator()


def _items() -> list[dict]:
    return [
        json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


# ---------------------------------------------------------------- the shipped set


@pytest.mark.unit
def test_shipped_gold_set_has_no_problems():
    assert V.validate(GOLD, CORPUS) == []


@pytest.mark.unit
def test_shipped_gold_set_size_and_coverage():
    items = _items()
    assert len(items) >= 80
    types = Counter(i["type"] for i in items)
    assert set(types) == set(V.TYPES), f"types missing: {set(V.TYPES) - set(types)}"
    assert types["unanswerable"] >= 10
    cited = Counter(e["doc"] for i in items for e in i["evidence"])
    for label, doc in PAPERS.items():
        assert cited[doc] >= 5, f"paper {label} ({doc}) is barely covered: {cited[doc]} quotes"


@pytest.mark.unit
def test_shipped_gold_set_questions_are_mostly_paraphrased():
    overlaps = [o for o in (V.question_overlap(i) for i in _items()) if o is not None]
    low = sum(1 for o in overlaps if o <= 1 / 3 + 1e-9)
    assert low / len(overlaps) >= 0.4, (
        f"only {low}/{len(overlaps)} questions paraphrase their evidence"
    )


@pytest.mark.unit
def test_cli_on_shipped_set_exits_zero(capsys):
    assert V.main([str(GOLD), "--corpus", str(CORPUS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK:") and "unanswerable=" in out


# ---------------------------------------------------------------- planted errors

DOC_TEXT = (
    "Alpha line one says the port grew 10.9% in 2022.\nBeta line two names Chengdu as the hub.\n"
)


def _item(iid: str, **over) -> dict:
    item = {
        "id": iid,
        "question": "How fast did the port grow?",
        "answer": "10.9% in 2022.",
        "evidence": [{"doc": "a.txt", "quote": "the port grew 10.9% in 2022"}],
        "type": "numeric",
        "key_facts": ["10.9%"],
    }
    item.update(over)
    return item


def _write(tmp_path: Path, rows: list) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "a.txt").write_text(DOC_TEXT, encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return gold, corpus


def _problems_for(problems: list[str], iid: str) -> list[str]:
    return [p for p in problems if f"({iid})" in p]


@pytest.mark.unit
def test_clean_tmp_set_validates(tmp_path):
    gold, corpus = _write(
        tmp_path,
        [
            _item("ok1"),
            _item(
                "ok2",
                type="list",
                evidence=[{"doc": "a.txt", "quote": "names Chengdu as the hub"}],
                key_facts=["CHENGDU  as the hub"],  # case and whitespace are normalised
            ),
            _item("ok3", type="unanswerable", answer="", evidence=[], key_facts=[]),
        ],
    )
    assert V.validate(gold, corpus) == []


@pytest.mark.unit
def test_planted_errors_are_each_reported(tmp_path):
    rows = [
        _item("good"),
        _item("badquote", evidence=[{"doc": "a.txt", "quote": "the port shrank 10.9% in 2022"}]),
        _item("good", question="A second item reusing an id"),
        _item("badtype", type="trivia"),
        _item("nofact", key_facts=["10.9%", "Chongqing"]),
        _item("nodoc", evidence=[{"doc": "missing.txt", "quote": "the port grew 10.9% in 2022"}]),
        _item("newline", evidence=[{"doc": "a.txt", "quote": "in 2022.\nBeta line two"}]),
        _item("unans", type="unanswerable"),
        _item("noev", evidence=[], key_facts=[]),
        {k: v for k, v in _item("nofield").items() if k != "question"},
        _item("badkind", key_facts="10.9%"),
        "{not json",
    ]
    gold, corpus = _write(tmp_path, rows)
    problems = V.validate(gold, corpus)
    text = "\n".join(problems)

    assert not [p for p in problems if p.startswith("line 1 ")], (
        text
    )  # the valid first item is clean
    assert any("quote not found" in p for p in _problems_for(problems, "badquote")), text
    assert any("duplicate id 'good'" in p for p in problems), text
    assert any("unknown type 'trivia'" in p for p in _problems_for(problems, "badtype")), text
    assert any("'Chongqing'" in p and "key fact" in p for p in _problems_for(problems, "nofact")), (
        text
    )
    assert not any("'10.9%'" in p for p in _problems_for(problems, "nofact")), text
    assert any("missing.txt" in p and "not found" in p for p in _problems_for(problems, "nodoc")), (
        text
    )
    assert any("line break" in p for p in _problems_for(problems, "newline")), text
    unans = _problems_for(problems, "unans")
    assert any("no evidence" in p for p in unans) and any("no key facts" in p for p in unans), text
    noev = _problems_for(problems, "noev")
    assert any("has no evidence" in p for p in noev) and any(
        "has no key facts" in p for p in noev
    ), text
    assert any("missing field 'question'" in p for p in _problems_for(problems, "nofield")), text
    assert any("'key_facts' must be list" in p for p in _problems_for(problems, "badkind")), text
    assert any("line 12" in p and "invalid JSON" in p for p in problems), text


@pytest.mark.unit
def test_doc_outside_corpus_is_rejected(tmp_path):
    gold, corpus = _write(
        tmp_path, [_item("escape", evidence=[{"doc": "../gold.jsonl", "quote": "port"}])]
    )
    problems = V.validate(gold, corpus)
    assert any("not found" in p for p in problems), problems


@pytest.mark.unit
def test_cli_reports_problems_and_exits_one(tmp_path, capsys):
    gold, corpus = _write(tmp_path, [_item("x", type="trivia")])
    assert V.main([str(gold), "--corpus", str(corpus)]) == 1
    assert "unknown type 'trivia'" in capsys.readouterr().out


# ---------------------------------------------------------------- dev/test split


def _load_splitter():
    spec = importlib.util.spec_from_file_location("gold_split", REPO / "eval" / "split.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


S = _load_splitter()


@pytest.mark.unit
def test_every_item_has_the_split_the_seeded_rule_gives():
    items = _items()
    assert all(i.get("split") in ("dev", "test") for i in items)
    assert {i["id"]: i["split"] for i in items} == S.assign_splits(items)
    assert S.main([str(GOLD), "--check"]) == 0


@pytest.mark.unit
def test_split_is_stratified_about_two_to_one():
    items = _items()
    for qtype in V.TYPES:
        of_type = [i for i in items if i["type"] == qtype]
        dev = sum(1 for i in of_type if i["split"] == "dev")
        assert abs(dev - len(of_type) * 2 / 3) <= 0.5, (qtype, dev, len(of_type))
        assert len(of_type) - dev >= 5, f"too few {qtype} items to report on test"


@pytest.mark.unit
def test_split_depends_on_seed_and_id_only():
    items = _items()
    reordered = list(reversed(items))
    assert S.assign_splits(reordered) == S.assign_splits(items)
    other = S.assign_splits(items, seed="another seed")
    assert other != S.assign_splits(items)  # the seed matters, so it is documented
    before = S.assign_splits(items)
    after = S.assign_splits([*items, {"id": "zz-new", "type": "numeric"}])
    moved = [k for k, v in before.items() if after[k] != v]
    assert len(moved) <= 1  # a new item moves at most the boundary item of its type


# ---------------------------------------------------------------- the SciFact questions


@pytest.mark.unit
def test_scifact_questions_quote_the_real_abstracts():
    assert V.validate(SCIFACT_QA, SCIFACT) == []
    assert V.main([str(SCIFACT_QA), "--corpus", str(SCIFACT)]) == 0


@pytest.mark.unit
def test_scifact_questions_cover_every_kind():
    items = [json.loads(line) for line in SCIFACT_QA.read_text(encoding="utf-8").splitlines()]
    types = Counter(i["type"] for i in items)
    assert 35 <= len(items) <= 45 and set(types) == set(V.TYPES)
    assert types["unanswerable"] == 10 and types["list"] >= 3
    assert all(i["split"] == "test" for i in items)  # held out: never tuned on
    assert all(e["doc"].endswith(".md") for i in items for e in i["evidence"])


@pytest.mark.unit
def test_validator_reads_a_jsonl_corpus(tmp_path, capsys):
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps({"_id": "7", "title": "Port growth", "text": DOC_TEXT.replace("\n", " ")})
        + "\n",
        encoding="utf-8",
    )
    good = _item("ok", evidence=[{"doc": "7.md", "quote": "the port grew 10.9% in 2022"}])
    title = _item(
        "title",
        type="factoid",
        evidence=[{"doc": "7.md", "quote": "Port growth"}],
        key_facts=["Port growth"],
    )
    gone = _item("gone", evidence=[{"doc": "7.txt", "quote": "the port grew 10.9% in 2022"}])
    gold, _ = _write(tmp_path, [good, title, gone])
    problems = V.validate(gold, corpus)
    assert [p for p in problems if "(gone)" not in p] == [], problems
    assert any("'7.txt' not found" in p for p in problems), problems


@pytest.mark.unit
def test_a_new_item_without_a_split_is_caught(tmp_path):
    gold, corpus = _write(tmp_path, [_item("a", split="dev"), _item("b")])
    problems = V.validate(gold, corpus)
    assert any("no split" in p and "eval/split.py" in p for p in problems), problems
    gold, corpus = _write(tmp_path, [_item("a", split="train")])
    assert any("unknown split 'train'" in p for p in V.validate(gold, corpus))
