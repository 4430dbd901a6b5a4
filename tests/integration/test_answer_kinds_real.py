"""Answers by question kind on the real corpus and model: declines of each factual kind, front
matter quoted exactly, lists as items, comparisons from both papers, awkward questions."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answering.base import ABSTAIN_TEXT
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration

WANG = "001_e32c79ad1fa0be66.txt"
FTZ = "003_8f09d066e0b864c5.txt"


def _exact(assistant: Assistant, answer_citations: list) -> None:  # type: ignore[type-arg]
    for cite in answer_citations:
        doc = assistant.snapshot.documents[cite.doc_id]
        assert doc.clean_text[cite.start : cite.end] == cite.quote
        raw = (CORPUS / cite.doc_id).read_text(encoding="utf-8")[cite.raw_start : cite.raw_end]
        assert " ".join(raw.split()) == " ".join(cite.quote.split())


@pytest.mark.parametrize(
    "question",
    [
        "Who is the mayor of Chengdu?",  # person
        "In which year did the Sichuan Pilot Free Trade Zone open its Luzhou customs office?",
        "How many kilometres of new railway has the Sichuan Pilot Free Trade Zone built?",
        "How much money did Sichuan invest in the China-Europe freight trains?",  # money
    ],
    ids=["person", "year", "count", "money"],
)
def test_on_topic_question_without_an_answer_of_its_kind_is_declined(
    real_assistant: Assistant, question: str
) -> None:
    answer = real_assistant.ask(question)
    assert answer.abstained, answer.text
    assert answer.text.startswith(ABSTAIN_TEXT)
    assert answer.citations == [] and answer.passages  # the closest passages are shown


def test_affiliation_is_quoted_from_the_title_block(real_assistant: Assistant) -> None:
    answer = real_assistant.ask(
        "Where do the authors of the paper on Sichuan's science and technology innovation work?"
    )
    assert not answer.abstained
    assert "Southwest Jiaotong University" in answer.text
    assert answer.citations[0].doc_id == WANG
    assert answer.citations[0].passage.field == "affiliation"
    _exact(real_assistant, answer.citations)


def test_funding_is_quoted_from_the_acknowledgement(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("Who funded the study?")
    assert not answer.abstained
    assert "Chengdu Science and Technology Plan Research Program" in answer.text
    assert answer.citations[0].passage.field == "funding"
    _exact(real_assistant, answer.citations)


def test_list_question_gets_the_items_not_the_headings_above_them(
    real_assistant: Assistant,
) -> None:
    answer = real_assistant.ask("What shortcomings of the FTZ does the study identify?")
    assert not answer.abstained
    assert "Insufficient differentiation of institutional innovations" in answer.text
    assert "Inadequate legal environment" in answer.text
    items = [line for line in answer.text.splitlines() if line.startswith("- ")]
    assert len(items) >= 3
    assert not any("There are Still Some Deficiencies" in line for line in items)
    assert not any("Current Development Situation" in line for line in items)
    assert {c.doc_id for c in answer.citations} == {FTZ}
    _exact(real_assistant, answer.citations)


def test_comparison_gathers_evidence_from_both_papers(real_assistant: Assistant) -> None:
    answer = real_assistant.ask(
        "Compare how the Wang Bing paper and the FTZ paper describe Chengdu's role."
    )
    assert not answer.abstained
    cited = {c.doc_id for c in answer.citations}
    assert {WANG, FTZ} <= cited
    _exact(real_assistant, answer.citations)


def test_factoid_answer_leads_with_the_figure_then_whole_sentences(
    real_assistant: Assistant,
) -> None:
    answer = real_assistant.ask("How many foreign financial institutions gather in Sichuan?")
    assert not answer.abstained
    lead, _, rest = answer.text.partition("\n\n")
    assert lead.split()[0] == "58", answer.text  # the span itself, then its marker
    assert len(lead.split()) == 2
    sentences = [c.quote for c in answer.citations]
    assert sentences and all(q[0].isupper() for q in sentences), sentences  # never mid-clause
    assert len(sentences) <= real_assistant.settings.answer.max_factual_sentences
    assert "58" in sentences[0]  # the span's [1] is the sentence that holds it
    _exact(real_assistant, answer.citations)


def test_two_questions_at_once_answers_one_and_names_the_other(
    real_assistant: Assistant,
) -> None:
    answer = real_assistant.ask(
        "When was the Sichuan pilot free trade zone set up, and who is the mayor of Chengdu?"
    )
    assert not answer.abstained
    assert "2017" in answer.text
    assert answer.notice and "mayor" in answer.notice


@pytest.mark.parametrize("question", ["四川自贸区是什么时候成立的？", "what is it?", "?!"])
def test_questions_without_english_content_words_get_a_clear_reply(
    real_assistant: Assistant, question: str
) -> None:
    answer = real_assistant.ask(question)
    assert answer.abstained
    assert answer.notice or len(answer.text) > len(ABSTAIN_TEXT)
