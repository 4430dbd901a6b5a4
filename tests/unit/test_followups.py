"""Follow-ups resolved with the conversation, and per-call retrieval knobs (k, mode).

The Assistant runs over a small inline corpus with the hash embedder; spies on the retriever
and the answerer show what was searched for and what the answerer was asked, whatever the
reader then makes of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assistant import Answer, Assistant, Citation, Passage
from assistant.answering.base import ABSTAIN_TEXT
from assistant.embeddings import HashEmbedder
from assistant.errors import ConfigError
from assistant.retrieval.followup import followup_kind, resolve_followup
from assistant.types import Turn
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

PAPER = """Regional Cooperation under the Belt and Road

Li Ming

1. Introduction

The western provinces joined the Belt and Road Initiative in 2014. The pilot free trade zone \
was established in April 2017 and the rail port opened in 2016. Exports through the rail port \
grew by 12% in 2019.

4. Challenges

Four challenges stand out in this section. High-end talent for international cooperation is \
scarce. Small enterprises find it hard to obtain financing for overseas projects. \
Coordination between provinces remains weak. Logistics costs along the corridor remain high.

5. Causes

Talent is scarce because salaries in inland provinces lag behind the coastal cities. \
Financing is hard to obtain because banks regard overseas projects as risky. Logistics costs \
remain high because return trains often run empty.
"""

OTHER = """Science Parks along the Route

Zhang Wei

1. Parks

The software park hosts more than 500 technology companies. Science parks cooperate with \
universities on joint laboratories. The park was founded in 2000.
"""

LIST_QUESTION = "What are the four challenges in section 4?"
ITEMS = (
    "High-end talent for international cooperation is scarce.",
    "Small enterprises find it hard to obtain financing for overseas projects.",
    "Coordination between provinces remains weak.",
)
NO_WORDS = "no words to search for"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("followups")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "cooperation.txt").write_text(PAPER, encoding="utf-8")
    (corpus / "parks.txt").write_text(OTHER, encoding="utf-8")
    return Assistant.load(make_settings(root, corpus), embedder=HashEmbedder())


class Spy:
    """Records every retrieval query and every question the answerer is given."""

    def __init__(self, bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
        self.queries: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.asked: list[str] = []
        retriever, answerer = bot._state.retriever, bot.answerer
        retrieve, answer, stream = retriever.retrieve, answerer.answer, answerer.stream

        def spy_retrieve(query: str, *args: Any, **kw: Any) -> list[Passage]:
            self.queries.append(query)
            self.calls.append(kw)
            return retrieve(query, *args, **kw)

        def spy_answer(question: str, *args: Any) -> Answer:
            self.asked.append(question)
            return answer(question, *args)

        def spy_stream(question: str, *args: Any) -> Iterator[str | Answer]:
            self.asked.append(question)
            return stream(question, *args)

        monkeypatch.setattr(retriever, "retrieve", spy_retrieve)
        monkeypatch.setattr(answerer, "answer", spy_answer)
        monkeypatch.setattr(answerer, "stream", spy_stream)


@pytest.fixture
def spy(bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> Spy:
    return Spy(bot, monkeypatch)


def list_answer(bot: Assistant) -> Answer:
    """The previous turn: a list answer citing three challenge sentences of the paper."""
    doc = bot.snapshot.documents["cooperation.txt"]
    citations = []
    for n, item in enumerate(ITEMS, 1):
        start = doc.clean_text.index(item)
        passage = Passage(
            chunk_id=f"c{n}", doc_id=doc.doc_id, text=item, start=start, end=start + len(item)
        )
        citations.append(
            Citation(
                marker=n,
                passage=passage,
                doc_id=doc.doc_id,
                quote=item,
                start=start,
                end=start + len(item),
            )
        )
    text = " ".join(f"{item} [{n}]" for n, item in enumerate(ITEMS, 1))
    return Answer(question=LIST_QUESTION, text=text, citations=citations)


# -- resolving a follow-up (no index) ---------------------------------------------------------


@pytest.mark.parametrize("why", ["Why?", "why is that?", "How?", "Why so?", "How exactly?"])
def test_bare_question_word_asks_about_the_previous_question(why: str) -> None:
    resolved = resolve_followup(why, [Turn(question=LIST_QUESTION)])
    assert resolved.followup == "bare"
    word = why.split()[0].strip("?").lower()
    assert resolved.standalone.lower().startswith(word)  # the kind comes from the new word
    assert resolved.standalone.endswith(LIST_QUESTION)
    assert resolved.question == why
    for w in ("challenges", "section", "4"):
        assert w in resolved.search_query.split()


def test_bare_followup_searches_the_cited_items_of_a_list_answer() -> None:
    quote = "Small enterprises find it hard to obtain financing for overseas projects " * 3
    answer = Answer(
        question=LIST_QUESTION,
        text="x [1]",
        citations=[
            Citation(
                marker=1,
                passage=Passage(chunk_id="c", doc_id="d.txt", text=quote, start=0, end=9),
                doc_id="d.txt",
                quote=quote,
                start=0,
                end=9,
            )
        ],
    )
    resolved = resolve_followup("Why?", [(LIST_QUESTION, answer)])
    assert resolved.search_query.startswith("four challenges section 4 Small enterprises")
    assert len(resolved.search_query.split()) < 40  # quotes trimmed
    assert resolved.boost_doc == "d.txt"


@pytest.mark.parametrize(
    ("followup", "carried"),
    [
        ("And the revised version?", "in the revised version"),
        ("What about in the earlier version?", "in the earlier version"),
        ("And Chengdu?", "for Chengdu"),
        ("How about the second edition?", "in the second edition"),
    ],
)
def test_and_what_about_asks_the_previous_question_of_a_new_element(
    followup: str, carried: str
) -> None:
    resolved = resolve_followup(followup, [Turn(question=LIST_QUESTION)])
    assert resolved.followup == "element"
    assert resolved.standalone == f"What are the four challenges in section 4, {carried}?"
    element = carried.split()[-1]
    assert element in resolved.search_query and "challenges" in resolved.search_query


@pytest.mark.parametrize(
    "question",
    [
        "And what about its legal environment?",  # a pronoun: about the previous topic
        "What areas is it divided into?",
        "And how many firms are in that park?",  # a question of its own
    ],
)
def test_other_followups_keep_their_wording_and_carry_the_topic(question: str) -> None:
    previous = "When was the pilot free trade zone established?"
    resolved = resolve_followup(question, [Turn(question=previous)])
    assert resolved.followup == "topic"
    assert resolved.standalone == question
    assert resolved.search_query.startswith(question)
    assert "zone" in resolved.search_query and "established" in resolved.search_query


def test_standalone_questions_and_no_history_are_left_alone() -> None:
    long = "Which universities cooperate with the science parks on joint laboratories today?"
    assert resolve_followup(long, [Turn(question=LIST_QUESTION)]).search_query == long
    for history in (None, []):
        resolved = resolve_followup("Why?", history)
        assert (resolved.standalone, resolved.search_query, resolved.followup) == (
            "Why?",
            "Why?",
            None,
        )
    assert followup_kind("???") is None and followup_kind("🤔") is None


def test_chained_followups_keep_the_original_question() -> None:
    history = [Turn(question=LIST_QUESTION), Turn(question="Why?")]
    assert resolve_followup("How?", history).standalone == f"How: {LIST_QUESTION}"
    history = [Turn(question=LIST_QUESTION), Turn(question="And the revised version?")]
    resolved = resolve_followup("Why?", history)
    assert resolved.standalone == f"Why: {LIST_QUESTION[:-1]}, in the revised version?"
    assert "revised" in resolved.search_query and "challenges" in resolved.search_query


def test_history_as_chat_messages() -> None:
    history = [{"role": "user", "content": LIST_QUESTION}, {"role": "assistant", "content": "x"}]
    assert resolve_followup("Why?", history).standalone == f"Why: {LIST_QUESTION}"


# -- the Assistant ----------------------------------------------------------------------------


def test_why_after_a_list_answer_searches_the_previous_question_and_its_items(
    bot: Assistant, spy: Spy
) -> None:
    previous = list_answer(bot)
    answer = bot.ask("Why?", history=[Turn(question=LIST_QUESTION, answer=previous)])
    assert NO_WORDS not in answer.text and not answer.notice
    assert answer.question == "Why?"  # what the user typed
    assert spy.asked == [f"Why: {LIST_QUESTION}"]
    query = spy.queries[0]
    assert "challenges" in query and "section" in query
    assert "talent" in query and "financing" in query  # the cited items
    assert spy.calls[0]["boost_doc"] == "cooperation.txt"
    assert answer.passages and answer.passages[0].doc_id == "cooperation.txt"


def test_why_streams_like_ask(bot: Assistant, spy: Spy) -> None:
    history = [(LIST_QUESTION, list_answer(bot))]
    pieces = list(bot.stream("why is that?", history))
    final = pieces[-1]
    assert isinstance(final, Answer) and NO_WORDS not in final.text
    assert set(spy.asked) == {f"Why is that: {LIST_QUESTION}"}  # (stream may call answer)
    assert final.question == "why is that?"


def test_why_without_history_is_refused_once_with_the_reason(bot: Assistant, spy: Spy) -> None:
    for history in (None, []):
        answer = bot.ask("Why?", history=history)
        assert answer.abstained and answer.text.startswith(ABSTAIN_TEXT)
        assert NO_WORDS in answer.text
        assert answer.notice is None  # the reason is shown once, not again as a notice
    assert spy.queries == [] and spy.asked == []


def test_and_the_revised_version_carries_the_previous_question(bot: Assistant, spy: Spy) -> None:
    history = [Turn(question=LIST_QUESTION, answer=list_answer(bot))]
    answer = bot.ask("And the revised version?", history=history)
    assert spy.asked == ["What are the four challenges in section 4, in the revised version?"]
    assert "challenges" in spy.queries[0] and "revised" in spy.queries[0]
    assert answer.question == "And the revised version?"


def test_ask_k_returns_that_many_passages_this_time_only(bot: Assistant, spy: Spy) -> None:
    question = "Which challenges make financing for overseas projects hard?"
    assert len(bot.ask(question, k=3).passages) == 3
    assert len(bot.ask(question, k=1).passages) == 1
    default = bot.settings.retrieval.top_k
    assert len(bot.ask(question).passages) == min(default, len(bot.snapshot.chunks))
    assert [c["k"] for c in spy.calls] == [3, 1, None]
    streamed = list(bot.stream(question, k=2))[-1]
    assert isinstance(streamed, Answer) and len(streamed.passages) == 2


@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_ask_mode_uses_that_retriever(bot: Assistant, spy: Spy, mode: str) -> None:
    answer = bot.ask("When was the pilot free trade zone established?", mode=mode)
    assert answer.passages
    assert all(set(p.scores) == {mode} for p in answer.passages)
    assert spy.calls[0]["mode"] == mode
    assert bot.settings.retrieval.mode == "hybrid"  # the settings are untouched


@pytest.mark.parametrize(("k", "mode"), [(0, None), (-2, None), (None, "semantic")])
def test_bad_knobs_are_one_clear_error(bot: Assistant, k: Any, mode: Any) -> None:
    with pytest.raises(ConfigError, match="k must be|mode must be"):
        bot.ask("When was the zone established?", k=k, mode=mode)


def test_with_settings_still_clones(bot: Assistant) -> None:
    clone = bot.with_settings(bot.settings.with_updates(retrieval={"top_k": 2}))
    assert clone is not bot and clone.snapshot is bot.snapshot
    assert len(clone.ask("When was the zone established?").passages) == 2
