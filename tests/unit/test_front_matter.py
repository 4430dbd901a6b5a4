"""Front matter found in each paper's own cleaned text, with exact offsets."""

from __future__ import annotations

import pytest

from assistant.corpus.cleaning import clean_text
from assistant.corpus.front_matter import authors_of, detect
from tests.conftest import CORPUS

pytestmark = pytest.mark.unit


def _fields(name: str) -> tuple[str, dict[str, str]]:
    doc = clean_text((CORPUS / name).read_text(encoding="utf-8"))
    found = detect(doc.text, [(s.title, s.start, s.end) for s in doc.sections])
    for f in found:
        assert doc.text[f.start : f.end] == f.text  # exact offsets
    return doc.text, {f.kind: f.text for f in found}


def test_title_block_of_a_clean_paper() -> None:
    _, fields = _fields("001_e32c79ad1fa0be66.txt")
    assert fields["title"].startswith("Research on the Countermeasures")
    assert fields["authors"] == "Wang Bing"
    assert fields["affiliation"].startswith("Southwest Jiaotong University")
    assert fields["keywords"].startswith("Sichuan; Scientific")
    assert fields["abstract"].startswith("Sichuan is located")
    assert fields["funding"].startswith("This research was supported by Chengdu Science")


def test_superscripted_authors_and_email_line() -> None:
    _, fields = _fields("004_b411ba9664f361c8.txt")
    assert "Beijing Talent Technology" in fields["affiliation"]
    assert "funding" not in fields  # prose about "financial support" is not a funding line


def test_pdf_extracted_paper_without_a_title_block() -> None:
    _, fields = _fields("003_8f09d066e0b864c5.txt")
    assert set(fields) == {"abstract", "keywords"}


def test_authors_are_split_into_names() -> None:
    text = (
        "A Study of Things\n\nAnn Lee^a, Bo Chen^{b*}\n\n^{ab} Example University\n\n1. Intro\n\nx"
    )
    fields = detect(text, [("1. Intro", text.index("1. Intro"), len(text))])
    assert authors_of(fields) == ["Ann Lee", "Bo Chen"]
    assert [f.kind for f in fields] == ["title", "authors", "affiliation"]


def test_an_uploaded_note_without_front_matter_gets_none() -> None:
    text = "Some notes.\n\nThe zone was set up in 2017, which the authors think was late."
    assert [f.kind for f in detect(text, [])] == ["title"]


def test_prose_in_first_place_is_body_text_not_a_title() -> None:
    """A note with no headings whose cleaned text starts with sentences: no title block, so
    none of its text is held back from answers as "front matter"."""
    raw = (
        "Rail freight report\n\nThe Chengdu rail freight hub grew quickly in 2019 because new "
        "express trains reached Lodz. Volumes doubled within a year.\n"
    )
    doc = clean_text(raw)
    assert detect(doc.text, [(s.title, s.start, s.end) for s in doc.sections]) == []
