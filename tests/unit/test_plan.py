"""The question plan: made once per question, with the chat history (no index needed)."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.retrieval.paper_hints import PaperNames
from assistant.retrieval.plan import QuestionPlan, Scope, make_plan, question_scope
from assistant.store import DocRecord
from assistant.types import Answer, Citation, Passage, Turn

pytestmark = pytest.mark.unit

LIST_QUESTION = "What are the four challenges in section 4?"
CONCLUDE = "What does the paper conclude about rail freight?"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who leads the zone's customs office?", "person"),
        ("Which university trained the brokers?", "organisation"),
        ("Where is the rail terminal?", "place"),
        ("When was the zone established?", "date"),
        ("How many freight trains left Chengdu?", "count"),
        ("How much money did the province invest in the port?", "money"),
        ("What percentage of exports went by rail?", "percent"),
        ("What are the main challenges of the zone?", "list"),
        ("Why did exports grow?", "reason"),
        ("How do the two papers differ on rail freight?", "comparison"),
        ("Tell me something interesting.", "other"),
    ],
)
def test_the_kind_of_answer_wanted(question: str, kind: str) -> None:
    plan = make_plan(question)
    assert plan.kind == kind == plan.info.kind
    assert plan.asked == plan.text == plan.search_query == question
    assert plan.followup is None and plan.boost_doc is None and plan.papers == ()


@pytest.mark.parametrize(
    ("question", "scope"),
    [
        ("How many trains left Chengdu in 2022 alone?", Scope(("2022",), True)),
        ("How many trains left Chengdu in 2022?", Scope(("2022",), True)),
        ("How many trains left Chengdu each year?", Scope((), True)),
        ("How many trains have left Chengdu since 2013 in total?", Scope(("2013",), False)),
        (
            "What was the average annual growth between 2013 and 2022?",
            Scope(("2013", "2022"), False),
        ),
        ("Which years saw growth: 2022 or 2017?", Scope(("2017", "2022"), False)),
        ("How many trains left Chengdu?", Scope((), False)),
    ],
)
def test_scope_years_and_one_period(question: str, scope: Scope) -> None:
    assert question_scope(question) == scope
    assert make_plan(question).scope == scope


def test_focus_front_matter_and_overview_are_recorded() -> None:
    plan = make_plan("Who funded the study?")
    assert plan.front_matter == "funding" and plan.overview is None
    assert make_plan("What are these papers about?").overview == "summary"
    assert make_plan("What does the revised version conclude?").overview == "conclusion"
    focus = make_plan("How many freight trains left Chengdu?").focus
    assert {"freight", "train", "chengdu"} <= set(focus)


def test_a_compound_question_is_planned_part_by_part() -> None:
    plan = make_plan("How many trains left the zone, and when did the terminal open?")
    assert plan.info.compound
    assert [(p.text, p.kind) for p in plan.parts] == [
        ("How many trains left the zone?", "count"),
        ("when did the terminal open?", "date"),
    ]
    assert make_plan("How many trains left the zone?").parts == ()


def _answer(question: str, doc_id: str, quote: str) -> Answer:
    passage = Passage(chunk_id="c1", doc_id=doc_id, text=quote, start=0, end=len(quote))
    cite = Citation(marker=1, passage=passage, doc_id=doc_id, quote=quote, start=0, end=len(quote))
    return Answer(question=question, text=f"{quote} [1]", citations=[cite])


def test_a_bare_follow_up_asks_about_the_previous_question() -> None:
    previous = _answer(LIST_QUESTION, "zones.txt", "4.1 Weak links to coastal ports")
    plan = make_plan("Why?", [(LIST_QUESTION, previous)])
    assert plan.asked == "Why?"
    assert plan.text == f"Why: {LIST_QUESTION}"
    assert plan.followup == "bare" and plan.kind == "reason"
    assert plan.boost_doc == "zones.txt"
    assert "Weak links to coastal ports" in plan.search_query  # the list it is asked about


def test_an_element_follow_up_asks_the_previous_question_again() -> None:
    plan = make_plan("And the revised version?", [Turn(question=CONCLUDE)])
    assert plan.followup == "element"
    assert plan.text == "What does the paper conclude about rail freight, in the revised version?"
    assert plan.overview is None and plan.kind == plan.info.kind
    assert "revised" in plan.search_query and "rail" in plan.search_query


def test_an_llm_rewrite_is_preferred_to_the_rules() -> None:
    rewrite = "What does the revised version conclude about rail freight?"
    plan = make_plan("And the revised one?", [Turn(question=CONCLUDE)], condensed=rewrite)
    assert plan.asked == "And the revised one?"
    assert plan.text == plan.search_query == rewrite


def test_papers_named_by_author_become_a_filter() -> None:
    docs = [
        DocRecord("lee.txt", "lee.txt", "Dry Ports", "h1", authors=["Ann Lee"]),
        DocRecord("chen.txt", "chen.txt", "Rail Corridors", "h2", authors=["Chen Hua"]),
    ]
    plan = make_plan("What does Lee's paper say about dry ports?", None, None, PaperNames(docs))
    assert plan.papers == ("lee.txt",)
    assert "Lee" not in plan.search_query and "dry ports" in plan.search_query
    assert plan.text == "What does Lee's paper say about dry ports?"  # the answerer reads it all
    assert make_plan("What do dry ports do?", None, None, PaperNames(docs)).papers == ()


def test_the_plan_is_frozen() -> None:
    plan: QuestionPlan = make_plan("Why did exports grow?")
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.text = "other"  # type: ignore[misc]
