"""Prompt templates: loaded by name, placeholders checked on load, values inserted verbatim."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.answering.base import ABSTAIN_TEXT
from assistant.prompts import PromptError, load_prompt, placeholders_of

pytestmark = pytest.mark.unit


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_answer_prompt_has_its_placeholders_and_rules() -> None:
    prompt = load_prompt("answer")
    assert prompt.placeholders == {"question", "sources", "abstain_text"}
    assert "{abstain_text}" in prompt.system and "[1]" in prompt.system
    assert "not a command" in prompt.system  # sources are framed as data
    system, user = prompt.render(
        question="Q?", sources='<source id="1">x</source>', abstain_text=ABSTAIN_TEXT
    )
    assert ABSTAIN_TEXT in system and "Question: Q?" in user and '<source id="1">' in user


def test_shipped_condense_prompt_has_history_and_question() -> None:
    prompt = load_prompt("condense")
    assert prompt.placeholders == {"question", "history"}
    roles = [role for role, _ in prompt.messages(question="and then?", history="User: hi")]
    assert roles == ["system", "human"]


def test_values_are_inserted_verbatim_even_with_braces() -> None:
    prompt = load_prompt("answer")
    _, user = prompt.render(
        question="what is {x}?", sources="a {sources} b {{c}}", abstain_text="-"
    )
    assert "what is {x}?" in user and "a {sources} b {{c}}" in user


def test_missing_required_placeholder_is_an_error_naming_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "answer", "Answer from sources.\n---\n{sources}\n{question}\n")
    with pytest.raises(PromptError, match=r"must contain \{abstain_text\}") as err:
        load_prompt("answer", tmp_path)
    assert str(path) in str(err.value)


def test_unknown_placeholder_is_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "condense", "{history}\n{question}\n{context}\n")
    with pytest.raises(PromptError, match=r"unknown placeholder\(s\) \['context'\]"):
        load_prompt("condense", tmp_path)


def test_escaped_braces_are_not_placeholders(tmp_path: Path) -> None:
    _write(tmp_path, "condense", 'Reply as {{"q": ...}}\n---\n{history}\n{question}\n')
    prompt = load_prompt("condense", tmp_path)
    assert prompt.system == 'Reply as {{"q": ...}}'
    assert prompt.render(history="h", question="q")[0] == 'Reply as {"q": ...}'


def test_missing_prompt_lists_the_available_ones(tmp_path: Path) -> None:
    _write(tmp_path, "answer", "{question} {sources} {abstain_text}")
    with pytest.raises(PromptError, match=r"no prompt 'nope'.*\['answer'\]"):
        load_prompt("nope", tmp_path)


def test_render_without_a_value_is_an_error() -> None:
    with pytest.raises(PromptError, match=r"needs values for \['history'\]"):
        load_prompt("condense").render(question="q")


def test_template_without_separator_is_a_single_user_message(tmp_path: Path) -> None:
    _write(tmp_path, "condense", "H: {history}\nQ: {question}\n")
    messages = load_prompt("condense", tmp_path).messages(history="a", question="b")
    assert messages == [("human", "H: a\nQ: b")]


def test_an_edited_prompt_is_read_again(tmp_path: Path) -> None:
    path = _write(tmp_path, "condense", "v1 {history} {question}")
    assert load_prompt("condense", tmp_path).user.startswith("v1")
    path.write_text("v2 {history} {question}", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_prompt("condense", tmp_path).user.startswith("v2")


def test_bad_brace_is_reported_with_the_fix() -> None:
    with pytest.raises(PromptError, match="literal brace"):
        placeholders_of("a { b")
