"""The trained reader on the real corpus and model: what issue 22 says must hold.

Each question here is one a user asks in their own words; the answers must lead with the
answer, quote whole sentences, follow the conversation, and decline a near miss while showing
what the papers do give.
"""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answering.base import ABSTAIN_TEXT

pytestmark = pytest.mark.integration


def _exact(bot: Assistant, answer) -> bool:  # type: ignore[no-untyped-def]
    return all(
        bot.snapshot.documents[c.doc_id].clean_text[c.start : c.end] == c.quote
        for c in answer.citations
    )


def test_readme_example_leads_with_the_date_then_the_sentence(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("When was the Sichuan Pilot Free Trade Zone established?")
    assert not answer.abstained
    first_line = answer.text.splitlines()[0]
    assert first_line.startswith("March 2017"), answer.text
    sentence = next(c.quote for c in answer.citations if len(c.quote) > 20)
    assert sentence.startswith("Sichuan FTZ was established in March 2017"), answer.text
    assert _exact(real_assistant, answer)


def test_everyday_name_is_answered_from_the_papers_own_term(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("What role does the China-Europe Railway Express play for Chengdu?")
    assert not answer.abstained, answer.text
    assert "liner" in answer.citations[0].quote, answer.text
    assert _exact(real_assistant, answer)


def test_why_after_a_list_answers_about_that_list(real_assistant: Assistant) -> None:
    listed = real_assistant.ask("What are the four challenges in section 4?")
    assert "Financial risk" in listed.text
    why = real_assistant.ask("Why?", history=[(listed.question, listed)])
    assert not why.abstained, why.text
    assert why.question == "Why?"
    assert "lists these under" not in why.text  # an answer about the list, not the list again
    assert "challenge" in why.text.lower()
    assert _exact(real_assistant, why)


def test_scope_trap_is_declined_with_what_the_papers_give(real_assistant: Assistant) -> None:
    answer = real_assistant.ask(
        "How many freight train trips to Europe left Chengdu in 2022 alone?"
    )
    assert answer.abstained
    assert answer.text.startswith(ABSTAIN_TEXT)
    assert "running total" in answer.text
    assert answer.citations and "20,000" in answer.citations[0].quote
    assert _exact(real_assistant, answer)


def test_overview_question_is_answered_from_abstracts(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("what are these papers about")
    assert not answer.abstained, answer.text
    assert len({c.doc_id for c in answer.citations}) >= 3
    assert "from its abstract" in answer.text
    assert _exact(real_assistant, answer)


def test_question_about_an_unknown_name_is_declined(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("What is the capital of France?")
    assert answer.abstained
    assert "France" in answer.text


def test_confidence_is_the_calibrated_probability(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("How many foreign financial institutions gather in Sichuan?")
    assert not answer.abstained
    assert answer.confidence is not None and 0.0 <= answer.confidence <= 1.0
    assert answer.text.startswith("58")
