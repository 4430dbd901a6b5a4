"""Follow-ups and per-call retrieval knobs on the real model and the bundled corpus."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answering.base import ABSTAIN_TEXT
from assistant.types import Turn

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHALLENGES = "What are the four challenges in section 4?"
FTZ = "When was the Sichuan Pilot Free Trade Zone established?"
FTZ_PAPER = "003_8f09d066e0b864c5.txt"
NO_WORDS = "no words to search for"


@pytest.fixture(scope="module")
def challenges(real_assistant: Assistant) -> Turn:
    answer = real_assistant.ask(CHALLENGES)
    assert len(answer.citations) >= 2  # a list answer, each item cited
    return Turn(question=CHALLENGES, answer=answer)


@pytest.mark.parametrize("why", ["Why?", "why is that?", "How?"])
def test_why_after_a_list_answer_is_searched_in_that_paper(
    real_assistant: Assistant, challenges: Turn, why: str
) -> None:
    answer = real_assistant.ask(why, history=[challenges])
    assert NO_WORDS not in answer.text and not answer.abstained
    assert answer.question == why
    assert challenges.answer is not None
    paper = challenges.answer.citations[0].doc_id
    assert answer.passages[0].doc_id == paper
    assert answer.citations and answer.citations[0].doc_id == paper


def test_why_alone_gets_the_clear_refusal(real_assistant: Assistant) -> None:
    answer = real_assistant.ask("Why?")
    assert answer.abstained and answer.text.startswith(ABSTAIN_TEXT)
    assert NO_WORDS in answer.text and answer.notice is None


@pytest.mark.parametrize(
    "followup", ["And the revised version?", "What about in the earlier version?"]
)
def test_version_followups_carry_the_previous_question(
    real_assistant: Assistant, challenges: Turn, followup: str
) -> None:
    answer = real_assistant.ask(followup, history=[challenges])
    assert answer.question == followup
    assert NO_WORDS not in answer.text
    assert answer.passages
    assert challenges.answer is not None
    assert challenges.answer.citations[0].doc_id in {p.doc_id for p in answer.passages}


def test_new_element_followup_stays_on_the_previous_question(real_assistant: Assistant) -> None:
    first = real_assistant.ask(FTZ)
    answer = real_assistant.ask("And Chengdu?", history=[Turn(question=FTZ, answer=first)])
    assert answer.question == "And Chengdu?" and NO_WORDS not in answer.text
    assert answer.passages[0].doc_id == FTZ_PAPER


def test_stream_resolves_followups_like_ask(real_assistant: Assistant, challenges: Turn) -> None:
    asked = real_assistant.ask("Why?", history=[challenges])
    streamed = list(real_assistant.stream("Why?", [challenges]))[-1]
    assert not isinstance(streamed, str)
    assert streamed.text == asked.text and streamed.question == "Why?"


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_k_and_mode_apply_to_one_call(real_assistant: Assistant, mode: str) -> None:
    answer = real_assistant.ask(FTZ, k=3, mode=mode)  # type: ignore[arg-type]
    assert len(answer.passages) == 3
    assert answer.passages[0].doc_id == FTZ_PAPER
    expected = {"bm25", "dense"} if mode == "hybrid" else {mode}
    assert set().union(*(p.scores for p in answer.passages)) <= expected
    if mode != "hybrid":
        assert all(set(p.scores) == {mode} for p in answer.passages)
    assert "March 2017" in answer.text
    default = real_assistant.ask(FTZ)
    assert len(default.passages) == real_assistant.settings.retrieval.top_k
