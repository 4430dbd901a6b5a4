"""Eval metrics on hand-made cases: relevance matching, ranking, answers, citations, abstention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answering.base import ABSTAIN_TEXT
from assistant.embeddings import HashEmbedder
from assistant.errors import AssistantError
from assistant.evaluation import metrics as m
from assistant.evaluation.beir import load_beir, run_beir
from assistant.evaluation.calibration import pick_k, pick_threshold, threshold_point
from assistant.evaluation.harness import load_gold, score_answer, select
from assistant.evaluation.models import CalibrationPoint, GoldItem, ItemResult, KSummary
from assistant.evaluation.report import problems
from assistant.types import Answer, Citation, Passage

pytestmark = pytest.mark.unit

QUOTE = "the construction of the “Belt and Road” has brought new opportunities"


def _item(type_: str = "factoid", facts: list[str] | None = None, **kw: object) -> GoldItem:
    evidence = [] if type_ == "unanswerable" else [{"doc": "001.txt", "quote": QUOTE}]
    facts = [] if type_ == "unanswerable" else (facts or ["new opportunities"])
    return GoldItem(
        id="q1",
        question="What?",
        answer="New opportunities for Sichuan.",
        evidence=evidence,
        type=type_,
        key_facts=facts,
        **kw,
    )


def _answer(text: str, quotes: list[str] | None = None, abstained: bool = False) -> Answer:
    passage = Passage(chunk_id="c1", doc_id="001.txt", text="x", start=0, end=1)
    citations = [
        Citation(marker=n, passage=passage, doc_id="001.txt", quote=q, start=0, end=1)
        for n, q in enumerate(quotes or [], start=1)
    ]
    return Answer(question="What?", text=text, citations=citations, abstained=abstained)


# -- relevance matching ----------------------------------------------------------------


@pytest.mark.parametrize(
    "passage",
    [
        'Since 2013 the con-\nstruction of the "Belt and Road"  has brought\nnew opportunities.',
        "THE CON- STRUCTION OF THE “BELT AND ROAD” HAS   BROUGHT NEW OPPORTUNITIES to Sichuan.",
        'the construction of the "Belt and Road" has brought new opportunity',  # fuzzy >= 90
    ],
)
def test_quote_found_across_whitespace_hyphenation_quotes_and_case(passage: str) -> None:
    assert m.quote_found(QUOTE, passage)


def test_normalise_undoes_line_break_hyphenation_whitespace_quotes_and_case() -> None:
    assert m.normalise("The con-\nstruction of  the\n“Belt and Road”") == (
        'the construction of the "belt and road"'
    )
    # short quotes get no fuzzy matching: only normalisation can make these equal
    assert m.quote_found("the construction", "The con-\nstruction site")
    assert m.quote_found("‘high-quality’ growth", "its 'High-quality'\n growth")


def test_quote_not_found_in_unrelated_text_and_short_quotes_need_exact_match() -> None:
    assert not m.quote_found(QUOTE, "Chengdu is the most important central city of the west.")
    assert not m.quote_found("Chengdu 2017", "Chengdu 2018 was a good year")
    assert m.quote_found("Chengdu", "In chengdu, trade grew.")


def test_quote_split_across_chunks_counts_where_most_of_it_is() -> None:
    quote = "exports amounted to 253.849 billion yuan and imports to 206.737 billion yuan in total"
    most = "Trade grew: exports amounted to 253.849 billion yuan and imports to 206.737"
    little = "billion yuan in total. According to customs statistics, by 2022"
    assert m.token_coverage(quote, most) >= m.COVERAGE_MIN
    assert m.quote_found(quote, most)
    assert not m.quote_found(quote, little)


def test_alias_and_version_links_decide_which_passages_count() -> None:
    links = m.DocLinks({"000.txt": "001.txt", "001.txt": None})
    ev = [m.Evidence("000.txt", QUOTE), m.Evidence("002.txt", QUOTE)]
    text = f"Indeed {QUOTE}."
    assert m.matched_evidence(ev, text, "001.txt", links=links) == [0]  # alias 000 -> 001
    assert m.matched_evidence(ev, text, "004.txt", links=links) == []  # another paper
    assert m.matched_evidence(ev, text, "004.txt", ["002.txt"], links) == [1]  # a version


def test_evidence_units_group_quotes_that_share_a_chunk() -> None:
    ev = [
        m.Evidence("a.txt", "alpha beta gamma delta epsilon zeta eta theta"),
        m.Evidence("a.txt", "one two three four five six seven eight"),
        m.Evidence("a.txt", "nothing like this appears anywhere at all in it"),
    ]
    chunks = [
        (
            "c1",
            "a.txt",
            "alpha beta gamma delta epsilon zeta eta theta. one two three four "
            "five six seven eight.",
        ),
        ("c2", "a.txt", "one two three four five six seven eight nine ten"),
    ]
    units = m.evidence_units(ev, chunks)
    assert units.holders == [{"c1"}, {"c1", "c2"}, set()]
    assert units.unit_of[0] == units.unit_of[1] != units.unit_of[2]
    assert units.n_units == 2 and units.unindexed == [2]
    assert m.units_held(units, ev, "c2", chunks[1][2], "a.txt") == ([1], [units.unit_of[1]])


# -- ranking (ranx) ----------------------------------------------------------------------


def test_perfect_ranking_scores_one_and_misses_score_less() -> None:
    qrels = {
        "perfect": {"u0": 1},
        "two": {"u0": 1, "u1": 1},
        "second": {"u0": 1},
        "half": {"u0": 1, "u1": 1},
    }
    runs = {
        "perfect": m.ranked_run([[0], []]),
        "two": m.ranked_run([[0], [1], []]),
        "second": m.ranked_run([[], [0]]),
        "half": m.ranked_run([[], [], [1]]),
    }
    scores = m.ranking_metrics(qrels, runs)
    assert all(v == pytest.approx(1.0) for v in scores["perfect"].values())
    assert scores["two"]["ndcg@10"] == pytest.approx(1.0) and scores["two"]["recall@1"] == 0.5
    assert scores["second"]["recall@1"] == 0.0 and scores["second"]["recall@3"] == 1.0
    assert scores["second"]["mrr@10"] == pytest.approx(0.5)
    assert scores["half"]["recall@10"] == pytest.approx(0.5)
    assert scores["half"]["mrr@10"] == pytest.approx(1 / 3)


def test_a_passage_holding_two_units_stands_for_both() -> None:
    run = m.ranked_run([[0, 1], []])
    assert sorted(run, key=lambda d: -run[d]) == ["u0", "u1", "miss1"]


def test_nothing_retrieved_scores_zero() -> None:
    scores = m.ranking_metrics({"q": {"u0": 1}}, {"q": {}})
    assert scores == {"q": dict.fromkeys(scores["q"], 0.0)} and scores["q"]


# -- answers -------------------------------------------------------------------------------


def test_key_fact_recall_normalises_case_markers_punctuation_and_plurals() -> None:
    facts = ["Southwest Jiaotong University", "financial risks"]
    answer = "It is southwest  Jiaotong University [1]. 4.1 Financial risk [2]"
    assert m.key_fact_recall(facts, answer) == 1.0
    assert m.key_fact_recall(facts, "Southwest Jiaotong University only") == 0.5
    assert m.missing_facts(facts, "Southwest Jiaotong University only") == ["financial risks"]


def test_empty_answer_has_zero_key_fact_recall_and_no_facts_is_not_applicable() -> None:
    assert m.key_fact_recall(["Chengdu"], "") == 0.0
    assert m.key_fact_recall([], "anything") is None


def test_first_citation_key_fact_recall_reads_only_the_first_markers_quotes() -> None:
    facts = ["Southwest Jiaotong University", "Chengdu", "611756"]
    first = "Southwest Jiaotong University School of Transportation and Logistics"
    also_first = "Chengdu, China"
    later = "postcode 611756"
    cited = [(1, first), (2, later), (1, also_first)]  # marker 1 cites two sentences
    text = f"{first} [1], {also_first} [1], {later} [2]"
    assert m.key_fact_recall(facts, text) == 1.0  # the whole answer states all three
    assert m.first_citation_key_fact_recall(facts, cited) == pytest.approx(2 / 3)
    assert m.first_citation_key_fact_recall(facts, [(2, later), (1, first)]) == pytest.approx(1 / 3)
    assert m.first_citation_key_fact_recall(facts, []) == 0.0  # no citation: nothing quoted
    assert m.first_citation_key_fact_recall([], cited) is None


def test_first_citation_key_fact_recall_in_scores_zero_when_abstaining() -> None:
    item = _item(facts=["new opportunities", "Belt and Road"])
    other = "Sichuan has a long history and a profound culture of tea."
    answer = _answer(f"{other} [1] {QUOTE} [2]", [other, QUOTE])
    scores = score_answer(item, answer)
    assert scores["key_fact_recall"] == 1.0 and scores["first_citation_key_fact_recall"] == 0.0
    swapped = score_answer(item, _answer(f"{QUOTE} [1] {other} [2]", [QUOTE, other]))
    assert swapped["first_citation_key_fact_recall"] == 1.0
    abstained = score_answer(item, _answer(ABSTAIN_TEXT, [QUOTE], abstained=True))
    assert abstained["first_citation_key_fact_recall"] == 0.0
    assert "first_citation_key_fact_recall" not in score_answer(_item("unanswerable"), None)


def test_token_f1_is_squad_style() -> None:
    assert m.token_f1("The Chengdu zone [1].", "chengdu zone") == 1.0
    assert m.token_f1("Beijing", "Chengdu") == 0.0
    assert m.token_f1("Chengdu zone grew", "Chengdu zone") == pytest.approx(0.8)


def test_a_perfect_answer_scores_one_everywhere() -> None:
    answer = _answer(f"{QUOTE} [1]", [QUOTE])
    scores = score_answer(_item(), answer)
    assert scores["key_fact_recall"] == 1.0
    assert scores["citation_precision"] == 1.0 and scores["citation_recall"] == 1.0
    assert scores["abstained"] == 0.0


def test_abstaining_on_an_unanswerable_item_is_correct() -> None:
    scores = score_answer(_item("unanswerable"), _answer(ABSTAIN_TEXT, abstained=True))
    assert scores["abstention_correct"] == 1.0 and scores["f1"] == 1.0
    wrong = score_answer(_item("unanswerable"), _answer("Chengdu grew [1]", ["Chengdu grew"]))
    assert wrong["abstention_correct"] == 0.0 and wrong["f1"] == 0.0


def test_abstaining_on_an_answerable_item_scores_zero() -> None:
    scores = score_answer(_item(), _answer(ABSTAIN_TEXT, abstained=True))
    assert scores["abstained"] == 1.0
    assert scores["key_fact_recall"] == 0.0 and scores["f1"] == 0.0
    assert "citation_precision" not in scores


def test_abstention_scores_count_false_abstentions() -> None:
    scores = m.abstention_scores([True, True, False, False], [True, False, True, False])
    assert scores["abstention_accuracy"] == 0.5
    assert scores["false_abstention_rate"] == 0.5
    assert m.abstention_scores([True], [False])["abstention_accuracy"] is None


# -- citations ---------------------------------------------------------------------------


def test_citation_precision_and_recall_follow_what_each_quote_supports() -> None:
    off = "Sichuan has a long history and a profound culture of tea."
    text = f"{QUOTE}. [1] {off} [2] An uncited closing remark about trade."
    precision, recall = m.citation_scores(
        text, {1: [QUOTE], 2: [off]}, [m.Evidence("a", QUOTE)], ["new opportunities"]
    )
    assert precision == 0.5  # marker 1 on target, marker 2 not
    assert recall == pytest.approx(1 / 3)  # three claims, one supported


def test_a_quote_that_does_not_hold_its_sentence_supports_nothing() -> None:
    text = "Tea exports doubled in 2020. [1]"
    precision, recall = m.citation_scores(text, {1: [QUOTE]}, [m.Evidence("a", QUOTE)], [])
    assert (precision, recall) == (0.0, 0.0)


def test_list_intro_lines_are_not_claims() -> None:
    text = "“Paper” lists these under “4. Challenges”:\n- 4.1 Financial risk [1]\n- 4.2 Talent [2]"
    claims = m.statements(text)
    assert [c.text for c in claims] == ["4.1 Financial risk", "4.2 Talent"]
    assert [c.markers for c in claims] == [(1,), (2,)]


# -- harness helpers ---------------------------------------------------------------------


def test_select_spreads_a_limit_over_question_types() -> None:
    items = [
        _item(t).model_copy(update={"id": f"{t}{n}"})
        for t in ("factoid", "list", "unanswerable")
        for n in range(5)
    ]
    picked = select(items, 4)
    assert len(picked) == 4 and {i.type for i in picked} == {"factoid", "list", "unanswerable"}
    assert select(items, None) == items


def test_load_gold_names_the_bad_line(tmp_path: Path) -> None:
    good = _item().model_dump()
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "type": "opinion"}) + "\n")
    with pytest.raises(AssistantError, match=r"qa.jsonl:2: .*type"):
        load_gold(path)
    with pytest.raises(AssistantError, match="--qa"):
        load_gold(tmp_path / "missing.jsonl")


def test_threshold_point_turns_low_confidence_into_abstention() -> None:
    # (answerable, confidence, key-fact recall when answered)
    outcomes = [(True, 0.8, 1.0), (True, 0.4, 0.5), (False, 0.3, None), (False, None, None)]
    low = threshold_point("hybrid", 6, 0.2, outcomes)
    assert low.abstention_accuracy == 0.5 and low.false_abstention_rate == 0.0
    assert low.key_fact_recall == 0.75
    assert low.combined == pytest.approx(2 * 0.5 * 0.75 / 1.25)  # harmonic mean
    assert low.credit == pytest.approx((1.0 + 0.5 + 0 + 1) / 4)
    high = threshold_point("hybrid", 6, 0.5, outcomes)
    assert high.abstention_accuracy == 1.0 and high.false_abstention_rate == 0.5
    assert high.key_fact_recall == 0.5 and high.combined == pytest.approx(2 / 3)
    never = threshold_point("hybrid", 6, 2.0, outcomes)
    assert never.key_fact_recall == 0.0 and never.combined == 0.0


def test_calibration_prefers_small_k_and_credit_when_differences_are_noise() -> None:
    ks = [
        KSummary(k=k, key_fact_recall=r, auroc=None)
        for k, r in ((3, 0.50), (6, 0.565), (10, 0.571))
    ]
    assert pick_k(ks) == 6
    points = [
        CalibrationPoint(
            mode="hybrid",
            k=6,
            threshold=t,
            abstention_accuracy=None,
            false_abstention_rate=None,
            balanced_accuracy=None,
            key_fact_recall=None,
            combined=c,
            credit=cr,
        )
        for t, c, cr in ((0.3, 0.43, 0.53), (0.45, 0.504, 0.486), (0.5, 0.505, 0.44))
    ]
    assert pick_threshold(points).threshold == 0.45


def test_auroc_ranks_answerable_confidence_above_unanswerable() -> None:
    assert m.auroc([0.8, 0.4], [0.3, None]) == 1.0
    assert m.auroc([0.3], [0.3]) == 0.5
    assert m.auroc([0.2], [0.6, 0.1]) == 0.5
    assert m.auroc([], [0.1]) is None


def test_problems_say_what_went_wrong() -> None:
    base = {"question": "?", "mode": "hybrid", "retrieved": [], "retrieved_docs": []}
    unans = ItemResult(
        id="u",
        type="unanswerable",
        quote_ranks=[],
        unit_ranks=[],
        abstained=False,
        confidence=0.6,
        **base,
    )
    assert problems(unans, 6) == ["answered an unanswerable question (confidence 0.600)"]
    missed = ItemResult(
        id="a",
        type="list",
        quote_ranks=[None, 8],
        unit_ranks=[None, 8],
        missing_facts=["financial risks"],
        **base,
    )
    text = " | ".join(problems(missed, 6))
    assert "missed retrieval: 1 of 2" in text and "evidence ranked 8" in text
    assert "“financial risks”" in text


# -- BEIR ---------------------------------------------------------------------------------


def _beir_folder(root: Path) -> Path:
    docs = [
        ("d1", "Aspirin", "Aspirin lowers the risk of myocardial infarction."),
        ("d2", "Vitamin D", "Vitamin D deficiency is common in winter."),
        ("d3", "Sleep", "Short sleep harms memory consolidation in adults."),
    ]
    queries = [
        ("q1", "aspirin myocardial infarction"),
        ("q2", "vitamin D deficiency winter"),
        ("q9", "not in the test split"),
    ]
    root.mkdir()
    (root / "qrels").mkdir()
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in docs)
    )
    (root / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in queries)
    )
    qrels = b"query-id\tcorpus-id\tscore\r\nq1\td1\t1\r\nq2\td2\t1\r\n"  # CRLF, as in BEIR
    (root / "qrels" / "test.tsv").write_bytes(qrels)
    return root


def test_beir_loader_reads_crlf_qrels_and_keeps_test_queries(tmp_path: Path) -> None:
    data = load_beir(_beir_folder(tmp_path / "beir"))
    assert data.qrels == {"q1": {"d1": 1}, "q2": {"d2": 1}}
    assert set(data.queries) == {"q1", "q2"} and data.doc_ids == ["d1", "d2", "d3"]
    with pytest.raises(AssistantError, match="corpus.jsonl"):
        load_beir(tmp_path)


def test_beir_run_scores_a_lexically_obvious_collection(tmp_path: Path) -> None:
    result = run_beir(_beir_folder(tmp_path / "beir"), embedder=HashEmbedder(), depth=3)
    assert set(result.metrics) == {"dense", "bm25", "hybrid"}
    assert result.metrics["bm25"]["ndcg@10"] == 1.0
    assert result.metrics["hybrid"]["recall@100"] == 1.0
