"""Questions on the real corpus with the real model: the offline answerer's promises."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant import Assistant
from assistant.answering.base import ABSTAIN_TEXT
from assistant.errors import QuestionError
from assistant.types import Turn
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration


def _raw(doc_id: str) -> str:
    return (CORPUS / doc_id).read_text(encoding="utf-8")


def test_factoid_is_cited_with_an_exact_quote(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("When was the Sichuan pilot free trade zone set up?")
    assert not answer.abstained
    assert "March 2017" in answer.text
    cite = answer.citations[0]
    doc = real_assistant.snapshot.documents[cite.doc_id]
    assert doc.clean_text[cite.start : cite.end] == cite.quote
    assert cite.quote in doc.clean_text
    raw = _raw(cite.doc_id)[cite.raw_start : cite.raw_end]
    assert " ".join(raw.split()) == " ".join(cite.quote.split())
    assert f"[{cite.marker}]" in answer.text


def test_list_question_gathers_the_four_challenges(real_assistant: Assistant) -> None:
    answer = real_assistant.ask(
        "What are the four challenges in Wang Bing's section 4 on Sichuan's S&T innovation?"
    )
    for item in (
        "Financial risk",
        "Institutional and institutional constraints",
        "cooperation with countries along the route",
        "cross-regional coordination",
    ):
        assert item in answer.text
    assert {c.doc_id for c in answer.citations} == {"001_e32c79ad1fa0be66.txt"}


def test_numeric_question_returns_the_figure(real_assistant: Assistant) -> None:
    answer = real_assistant.ask(
        "What was the average annual growth of Sichuan's trade with Belt and Road countries "
        "between 2013 and 2022?"
    )
    assert "10.9%" in answer.text
    assert answer.citations[0].doc_id == "003_8f09d066e0b864c5.txt"


def test_off_topic_question_abstains(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("How much coffee does Brazil export to Europe each year?")
    assert answer.abstained and answer.text.startswith(ABSTAIN_TEXT)
    assert answer.citations == [] and answer.passages


def test_question_about_things_the_papers_never_mention_abstains(real_assistant: Assistant) -> None:
    question = "What GDP target has the Sichuan Pilot Free Trade Zone set for 2030?"
    answer = real_assistant.ask(question)
    assert answer.abstained
    assert "never mention 2030" in answer.text


def test_follow_up_resolves_to_the_previous_paper(real_assistant: Assistant) -> None:
    first = real_assistant.ask("What deficiencies does the Sichuan FTZ still have?")
    assert first.citations and first.citations[0].doc_id == "003_8f09d066e0b864c5.txt"
    follow = real_assistant.ask(
        "And what about its legal environment?",
        history=[Turn(question=first.question, answer=first)],
    )
    assert follow.passages[0].doc_id == "003_8f09d066e0b864c5.txt"
    assert any("legal" in c.quote.lower() for c in follow.citations)


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_retrieval_mode_finds_the_ftz_paper(real_assistant: Assistant, mode: str) -> None:
    passages = real_assistant.retrieve(
        "Sichuan pilot free trade zone legal environment", k=5, mode=mode
    )
    assert len(passages) == 5
    assert passages[0].doc_id == "003_8f09d066e0b864c5.txt"
    assert mode in passages[0].scores or mode == "hybrid"


def test_abbreviations_are_normalised(real_assistant: Assistant) -> None:
    passages = real_assistant.retrieve("BRI FTZ", k=3, mode="bm25")
    assert passages and passages[0].doc_id == "003_8f09d066e0b864c5.txt"


def test_versions_collapse_into_one_result(real_assistant: Assistant) -> None:
    passages = real_assistant.retrieve(
        "building a science and technology innovation cooperation park with strong influence", k=8
    )
    docs = [p.doc_id for p in passages]
    assert any(p.versions for p in passages)
    collapsed = next(p for p in passages if p.versions)
    assert {collapsed.doc_id, *collapsed.versions} == {
        "002_b656026ce0905ff7.txt",
        "004_b411ba9664f361c8.txt",
    }
    assert len(docs) == len(set(p.chunk_id for p in passages))


def test_langchain_retriever_in_a_chain(real_assistant: Assistant) -> None:
    from langchain_core.runnables import RunnableLambda

    retriever = real_assistant.as_retriever(k=3)
    chain = retriever | RunnableLambda(lambda docs: [d.metadata["doc_id"] for d in docs])
    assert chain.invoke("When was the Sichuan FTZ established?")[0] == "003_8f09d066e0b864c5.txt"


def test_stream_yields_text_then_the_answer(real_assistant: Assistant) -> None:
    pieces = list(real_assistant.stream("When was the Sichuan FTZ established?"))
    final = pieces[-1]
    assert not isinstance(final, str)
    assert "".join(p for p in pieces[:-1] if isinstance(p, str)) == final.text


def test_concurrent_asks_are_consistent(real_assistant: Assistant) -> None:
    questions = [
        "When was the Sichuan FTZ established?",
        "What are the challenges of international S&T cooperation?",
    ] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(real_assistant.ask, questions))
    assert len({a.text for a in answers[0::2]}) == 1 and len({a.text for a in answers[1::2]}) == 1


@pytest.mark.parametrize(
    ("question", "expect"),
    [
        ("四川自由贸易试验区是什么时候成立的？", "in English"),
        ("what is it and how was it and why", "no words to search for"),
    ],
)
def test_odd_questions_get_a_clear_notice(
    real_assistant: Assistant, question: str, expect: str
) -> None:
    answer = real_assistant.ask(question)
    assert answer.abstained and expect in answer.text
    assert answer.notice is None  # the reason is in the text: not shown a second time


def test_empty_question_is_refused(real_assistant: Assistant) -> None:
    for bad in ("", "   \n\t "):
        with pytest.raises(QuestionError, match="empty question"):
            real_assistant.ask(bad)


def test_huge_question_is_truncated_with_a_notice(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("When was the Sichuan FTZ established? " + "trade " * 4000)
    assert answer.notice and "only the first" in answer.notice


def test_control_characters_are_ignored(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("When was the\x00 Sichuan FTZ\x07 established?\x1b")
    assert "March 2017" in answer.text


def test_truncation_notice_survives_an_early_abstention(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("四川自由贸易试验区 " * 400)
    assert answer.abstained and answer.notice
    assert "only the first" in answer.notice and "in English" in answer.text
