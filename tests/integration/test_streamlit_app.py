"""The Streamlit app run headless through ``AppTest``: the real script, model and index.

Every test points the app's index, cache and uploads at one tmp folder per module, so the
index is built once (``st.cache_resource`` keeps it for the process) and the repo's index/
and .cache/ are never touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from assistant import Answer, Assistant, Settings
from assistant.answering.base import ABSTAIN_TEXT

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "streamlit_app.py")
TIMEOUT_S = 240  # the first run loads the model and builds the index on 2 shared cores
FTZ_QUESTION = "When was the Sichuan FTZ established?"


@pytest.fixture(scope="module")
def app_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("app")


@pytest.fixture
def app_env(app_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Env vars the app's Settings() reads: everything writable lives under ``app_root``."""
    monkeypatch.setenv("ASSISTANT_PATHS__CORPUS_DIR", str(REPO / "corpus"))
    monkeypatch.setenv("ASSISTANT_PATHS__INDEX_DIR", str(app_root / "index"))
    monkeypatch.setenv("ASSISTANT_PATHS__CACHE_DIR", str(app_root / "cache"))
    monkeypatch.setenv("ASSISTANT_PATHS__UPLOADS_DIR", str(app_root / "uploads"))
    return app_root


def _started() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def _shown(value: object) -> str:
    """What the reader sees: paper text reaches st.markdown as character references."""
    return unescape(str(value))


def _texts(element: object) -> str:
    """All markdown, caption and alert text inside an element, for substring checks."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "warning", "error", "info", "success"):
        parts += [_shown(e.value) for e in getattr(element, kind)]
    return "\n".join(parts)


@pytest.mark.unit
def test_invalid_setting_is_one_error_line_not_a_traceback(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__MODE", "semantic")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert len(at.error) == 1
    assert "retrieval.mode" in at.error[0].value
    assert len(at.chat_input) == 0  # the app stops before offering a chat


@pytest.mark.integration
@pytest.mark.slow
def test_question_gets_streamed_cited_answer_with_source_card(app_env: Path) -> None:
    at = _started()
    assert at.title[0].value == "BRI Papers Assistant"
    assert any("Sichuan Pilot Free Trade Zone established" in b.label for b in at.button)
    _ask(at, FTZ_QUESTION)
    user, bot = at.chat_message
    assert (user.name, bot.name) == ("user", "assistant")
    answer = bot.markdown[0].value
    assert "March 2017" in answer
    assert '<span class="bri-cite">[1]</span>' in answer
    card = _texts(bot)
    assert "High-quality Development Path of the China (Sichuan) Pilot Free Trade Zone" in card
    assert "<mark>Sichuan FTZ was established in March 2017" in card
    assert f"Hybrid · top-{Settings().retrieval.top_k}" in bot.caption[-1].value
    assert not any(b.label.startswith("What are the four") for b in at.button)  # examples gone


@pytest.mark.integration
@pytest.mark.slow
def test_example_button_asks_its_question(app_env: Path) -> None:
    at = _started()
    at.button(key="example-1").click().run()
    assert not at.exception
    assert at.chat_message[0].markdown[0].value == (
        "When was the Sichuan Pilot Free Trade Zone established?"
    )
    assert "2017" in at.chat_message[1].markdown[0].value


@pytest.mark.integration
@pytest.mark.slow
def test_settings_apply_to_the_next_question(app_env: Path) -> None:
    at = _started()
    at.radio(key="mode").set_value("bm25")
    at.slider(key="top_k").set_value(3)
    at.run()
    _ask(at, FTZ_QUESTION)
    footer = at.chat_message[1].caption[-1].value
    assert "BM25 · top-3 · 3 passages searched" in footer


@pytest.mark.integration
@pytest.mark.slow
def test_top_k_and_mode_apply_per_question_without_cloning_the_assistant(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_clone(self: Assistant, settings: Settings) -> Assistant:
        raise AssertionError("the UI cloned the Assistant for its retrieval knobs")

    monkeypatch.setattr(Assistant, "with_settings", no_clone)
    at = _started()
    at.radio(key="mode").set_value("bm25")
    at.slider(key="top_k").set_value(3)
    at.run()
    _ask(at, FTZ_QUESTION)
    assert "BM25 · top-3 · 3 passages searched" in at.chat_message[1].caption[-1].value
    at.radio(key="mode").set_value("dense")
    at.slider(key="top_k").set_value(5)
    at.run()
    _ask(at, FTZ_QUESTION)
    assert "Dense · top-5 · 5 passages searched" in at.chat_message[3].caption[-1].value
    assert "BM25 · top-3 · 3 passages searched" in at.chat_message[1].caption[-1].value
    assert "_tuned" not in at.session_state


@pytest.mark.integration
@pytest.mark.slow
def test_choosing_a_paper_in_the_sidebar_asks_within_it(
    app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sidebar's paper selector is passed to each question: the FTZ question, asked
    within another paper, cites only that one (and the FTZ paper's card never shows)."""
    answers: list[Answer] = []
    real_stream = Assistant.stream

    def spy(self: Assistant, *args: Any, **kwargs: Any) -> Iterator[str | Answer]:
        for piece in real_stream(self, *args, **kwargs):
            if isinstance(piece, Answer):
                answers.append(piece)
            yield piece

    monkeypatch.setattr(Assistant, "stream", spy)
    at = _started()
    chooser = at.multiselect(key="papers")
    assert chooser.value == []  # none chosen: every paper
    assert any("(004_b411ba9664f361c8.txt)" in o for o in chooser.options), chooser.options
    at.multiselect(key="papers").select("004_b411ba9664f361c8.txt").run()
    _ask(at, FTZ_QUESTION)
    answer = answers[-1]
    assert {p.doc_id for p in answer.passages} == {"004_b411ba9664f361c8.txt"}
    assert {c.doc_id for c in answer.citations} <= {"004_b411ba9664f361c8.txt"}
    bot = at.chat_message[1]
    assert "within 1 paper" in bot.caption[-1].value
    card = _texts(bot)
    assert "High-quality Development Path of the China (Sichuan) Pilot Free Trade Zone" not in card
    at.multiselect(key="papers").set_value([]).run()  # none chosen: every paper again
    _ask(at, FTZ_QUESTION)
    assert "003_8f09d066e0b864c5.txt" in {c.doc_id for c in answers[-1].citations}


@pytest.mark.integration
@pytest.mark.slow
def test_why_alone_is_refused_once_and_after_an_answer_follows_it(app_env: Path) -> None:
    at = _started()
    _ask(at, "Why?")
    bot = at.chat_message[1]
    assert len(bot.warning) == 1 and "no words to search for" in bot.warning[0].value
    assert len(bot.info) == 0  # the reason is not repeated in a second box
    _ask(at, FTZ_QUESTION)
    _ask(at, "Why?")
    assert len(at.chat_message) == 6
    follow_up = _texts(at.chat_message[5])
    assert "no words to search for" not in follow_up
    assert "passages searched" in at.chat_message[5].caption[-1].value


@pytest.mark.integration
@pytest.mark.slow
def test_empty_question_shows_error_and_keeps_history_empty(app_env: Path) -> None:
    at = _started()
    _ask(at, "   ")
    assert [e.value for e in at.error] == ["Empty question: type a question about the papers."]
    assert len(at.chat_message) == 0
    assert at.session_state["messages"] == []


@pytest.mark.integration
@pytest.mark.slow
def test_unanswerable_question_abstains_with_closest_passages(app_env: Path) -> None:
    at = _started()
    _ask(at, "What is the capital of France?")
    bot = at.chat_message[1]
    assert bot.warning[0].value.startswith(ABSTAIN_TEXT)
    assert "Closest passages" in bot.expander[0].label
    assert "<mark>" not in _texts(bot)  # nothing is cited, so nothing is highlighted


@pytest.mark.integration
@pytest.mark.slow
def test_follow_up_uses_the_conversation(app_env: Path) -> None:
    at = _started()
    _ask(at, FTZ_QUESTION)
    _ask(at, "What areas is it divided into?")
    assert len(at.chat_message) == 4
    follow_up = at.chat_message[3].markdown[0].value
    assert "Lingang" in follow_up, follow_up  # alone, this question names no zone at all


@pytest.mark.integration
@pytest.mark.slow
def test_new_chat_clears_history_and_brings_examples_back(app_env: Path) -> None:
    at = _started()
    _ask(at, FTZ_QUESTION)
    assert len(at.chat_message) == 2
    new_chat = next(b for b in at.sidebar.button if b.label == "New chat")
    new_chat.click().run()
    assert len(at.chat_message) == 0
    assert at.session_state["messages"] == []
    assert any(b.label.startswith("What are the four") for b in at.button)


@pytest.mark.integration
@pytest.mark.slow
def test_upload_is_indexed_and_searchable_and_duplicates_refused(app_env: Path) -> None:
    fact = b"The Chengdu Panda Logistics Corridor opened in 2031 with 47 rail terminals."
    at = _started()
    at.sidebar.file_uploader[0].set_value(
        [
            ("panda.txt", fact + b" It links dry ports across the west.", "text/plain"),
            ("empty.md", b"", "text/markdown"),
        ]
    ).run()
    assert not at.exception
    assert any(_shown(s.value).startswith("Indexed panda.txt") for s in at.sidebar.success)
    assert any("empty.md: empty file" in _shown(e.value) for e in at.sidebar.error)
    assert (app_env / "uploads" / "panda.txt").read_bytes().startswith(fact)
    assert not (app_env / "uploads" / "empty.md").exists()

    _ask(at, "When did the Chengdu Panda Logistics Corridor open?")
    assert "2031" in at.chat_message[1].markdown[0].value

    at.sidebar.file_uploader[0].set_value(("panda.txt", b"Another text.", "text/plain")).run()
    assert any("panda.txt: a paper with this name" in _shown(w.value) for w in at.sidebar.warning)
    assert (app_env / "uploads" / "panda.txt").read_bytes().startswith(fact)  # not overwritten

    remove = [b for b in at.sidebar.button if b.label == "Remove"]
    assert len(remove) == 1  # only the upload: bundled papers come back with the corpus sync
    remove[0].click().run()
    assert not at.exception
    assert any(_shown(s.value).startswith("Removed panda-") for s in at.sidebar.success)
    assert not [b for b in at.sidebar.button if b.label == "Remove"]
    assert not (app_env / "uploads" / "panda.txt").exists()  # the uploads folder follows
