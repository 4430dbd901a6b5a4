"""Odd input on the real model and the bundled corpus: a clear reply, never a traceback."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answering.base import ABSTAIN_TEXT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FTZ_PAPER = "003_8f09d066e0b864c5.txt"
NO_WORDS = "no words to search for"


@pytest.mark.parametrize(
    "question",
    [
        "wen was the sichuan ftz establised",  # typos, lower case, no question mark
        "when was the sichuan pilot free trade zone established",  # lower case, no punctuation
        "WHEN WAS THE SICHUAN PILOT FREE TRADE ZONE ESTABLISHED",
        "🤔 When was the Sichuan FTZ established?? 🤔",
    ],
)
def test_sloppy_questions_still_find_the_answer(real_assistant: Assistant, question: str) -> None:
    answer = real_assistant.ask(question)
    assert not answer.abstained and answer.question == question
    assert answer.passages[0].doc_id == FTZ_PAPER
    assert "2017" in answer.text


def test_two_questions_in_one_answer_the_part_the_papers_cover(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("When was the Sichuan FTZ set up and who runs it?")
    assert not answer.abstained and "2017" in answer.text
    assert answer.citations and answer.citations[0].doc_id == FTZ_PAPER


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("what is the of", NO_WORDS),
        ("?!?", NO_WORDS),
        ("🤔🤔", NO_WORDS),
        ("四川自贸区什么时候成立？", "please ask in English"),
    ],
)
def test_unsearchable_questions_say_why_once(
    real_assistant: Assistant, question: str, reason: str
) -> None:
    answer = real_assistant.ask(question)
    assert answer.abstained and answer.text.startswith(ABSTAIN_TEXT)
    assert reason in answer.text and answer.notice is None
