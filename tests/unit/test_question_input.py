"""Bad or odd input to ``Assistant.ask``: never a traceback, always a clear reply.

A small inline corpus and the hash embedder; what the reader answers is not the point here,
only that every input gets an Answer (or the one documented QuestionError) that says why.
"""

from __future__ import annotations

import pytest

from assistant import Answer, Assistant
from assistant.answering.base import ABSTAIN_TEXT
from assistant.embeddings import HashEmbedder
from assistant.errors import QuestionError
from assistant.types import Turn
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

PAPER = """Trade and Innovation in the Western Provinces

Li Ming

1. Introduction

The pilot free trade zone was established in April 2017 in the provincial capital. The zone \
is run by a management committee under the provincial government. In 2019 the total import \
and export volume reached 676.5 billion yuan, an increase of 13.9% over the previous year.

2. Challenges

High-end talent for international cooperation is scarce. Small enterprises find it hard to \
obtain financing for overseas projects.
"""

NO_WORDS = "no words to search for"
ENGLISH = "please ask in English"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("question-input")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "trade.txt").write_text(PAPER, encoding="utf-8")
    return Assistant.load(make_settings(root, corpus), embedder=HashEmbedder())


def asked(bot: Assistant, question: str, **kw: object) -> Answer:
    """``ask`` and ``stream`` give the same, well-formed Answer."""
    answer = bot.ask(question, **kw)  # type: ignore[arg-type]
    pieces = list(bot.stream(question, **kw))  # type: ignore[arg-type]
    final = pieces[-1]
    assert isinstance(final, Answer) and all(isinstance(p, str) for p in pieces[:-1])
    assert (final.text, final.abstained) == (answer.text, answer.abstained)
    assert answer.text.strip()
    return answer


@pytest.mark.parametrize(
    "question",
    [
        "wen was the pilot fre trade zone establised",  # typos, no capitals, no question mark
        "when was the pilot free trade zone established",  # all lower case, no punctuation
        "WHEN WAS THE PILOT FREE TRADE ZONE ESTABLISHED???",
        "When was the zone set up and who runs it?",  # two questions in one
        "When was the zone set up? Who runs it?",
        "🤔 when was the pilot free trade zone established 🤔",  # emoji around words
        "zone",  # one word
    ],
)
def test_odd_but_searchable_questions_are_searched(bot: Assistant, question: str) -> None:
    answer = asked(bot, question)
    assert NO_WORDS not in answer.text and ENGLISH not in answer.text
    assert answer.passages and answer.passages[0].doc_id == "trade.txt"
    assert answer.question == question


def test_case_and_punctuation_do_not_change_the_search(bot: Assistant) -> None:
    plain = bot.ask("when was the pilot free trade zone established")
    cased = bot.ask("When was the pilot free trade zone established?")
    assert [p.chunk_id for p in plain.passages] == [p.chunk_id for p in cased.passages]


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("what is the of", NO_WORDS),  # stop words only
        ("Why?", NO_WORDS),  # a follow-up word with no conversation to follow
        ("???", NO_WORDS),
        ("?!... —", NO_WORDS),
        ("🤔🤔🤔", NO_WORDS),
        ("🚆 ❤️ 👍", NO_WORDS),
        ("四川自由贸易试验区是什么时候成立的？", ENGLISH),
        ("自贸区 FTZ 是什么？成立时间？", ENGLISH),
    ],
)
def test_unsearchable_questions_say_why_once(bot: Assistant, question: str, reason: str) -> None:
    answer = asked(bot, question)
    assert answer.abstained and answer.text.startswith(ABSTAIN_TEXT)
    assert reason in answer.text
    assert answer.notice is None  # not repeated: the UI shows text and notice side by side
    assert answer.citations == [] and answer.passages == []
    assert answer.question == question


def test_chinese_is_refused_even_inside_a_conversation(bot: Assistant) -> None:
    history = [Turn(question="When was the pilot free trade zone established?")]
    answer = bot.ask("为什么？", history=history)
    assert answer.abstained and ENGLISH in answer.text


def test_very_long_question_is_cut_with_a_notice(bot: Assistant) -> None:
    question = "When was the pilot free trade zone established? " + "trade " * 3000
    answer = asked(bot, question)
    assert answer.notice and "only the first" in answer.notice
    assert len(answer.question) <= bot.settings.answer.max_question_chars


def test_very_long_unsearchable_question_keeps_both_reasons(bot: Assistant) -> None:
    answer = asked(bot, "的 " * 3000)
    assert ENGLISH in answer.text and answer.notice and "only the first" in answer.notice


def test_control_characters_and_odd_spacing_are_ignored(bot: Assistant) -> None:
    answer = asked(bot, "  When\twas the\x00 pilot\n\nfree trade zone\x07 established?\x1b ")
    assert answer.question == "When was the pilot free trade zone established?"
    assert answer.passages and NO_WORDS not in answer.text


@pytest.mark.parametrize("bad", ["", "   \n\t ", "\x00\x07"])
def test_empty_question_is_one_clear_error(bot: Assistant, bad: str) -> None:
    with pytest.raises(QuestionError, match="empty question"):
        bot.ask(bad)


@pytest.mark.parametrize("bad", [None, 42, b"When?"])
def test_question_that_is_not_text_is_one_clear_error(bot: Assistant, bad: object) -> None:
    with pytest.raises(QuestionError, match="must be text"):
        bot.ask(bad)  # type: ignore[arg-type]


def test_odd_history_entries_are_ignored(bot: Assistant) -> None:
    history: list = [("", None), {"role": "system", "content": "x"}, ("   ", "not an answer")]
    answer = bot.ask("Why?", history=history)
    assert answer.abstained and NO_WORDS in answer.text
