"""Question analysis (answer kind, focus, count unit, front matter, compound questions) and
the lexicon loader, with no model: pure functions on question text."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus.lexicon import EMPTY, load_lexicon
from assistant.errors import AssistantError
from assistant.retrieval.query import analyse, question_parts
from assistant.retrieval.search import normalise_query

pytestmark = pytest.mark.unit

LEXICON = Path(__file__).resolve().parents[2] / "corpus" / "lexicon.toml"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who is the mayor of Chengdu?", "person"),
        ("Which universities take part in the alliance?", "organisation"),
        ("Where is the first digital service export base located?", "place"),
        ("When was the zone set up?", "date"),
        ("In which year was the initiative proposed?", "date"),
        ("How many freight trains left Chengdu in 2015?", "count"),
        ("How much money did the company invest in science parks?", "money"),
        ("What share of exports were electronic products?", "percent"),
        ("What shortcomings does the study identify?", "list"),
        ("What are the four challenges in section 4?", "list"),
        ("Why is the pattern of foreign trade so uniform?", "reason"),
        ("How does the revised version differ from the earlier one?", "comparison"),
        ("What goes wrong when every province competes?", "other"),
    ],
)
def test_answer_kind(question: str, kind: str) -> None:
    assert analyse(question).kind == kind


def test_focus_drops_cue_and_generic_words() -> None:
    lexicon = load_lexicon(LEXICON)
    info = analyse("How many China-Europe freight trains left Chengdu in 2015?", lexicon)
    assert info.unit == "train"
    assert {"freight", "train", "chengdu", "2015"} <= set(info.focus)
    assert not {"how", "mani"} & set(info.focus)
    specific = analyse("What is the GDP growth of the Sichuan pilot free trade zone?", lexicon)
    assert set(specific.focus) == {"gdp", "growth"}
    # nothing specific left: the generic words are then what is asked about
    only_generic = analyse("When was the Sichuan pilot free trade zone set up?", lexicon)
    assert {"sichuan", "zone", "set"} <= set(only_generic.focus)


@pytest.mark.parametrize(
    ("question", "field"),
    [
        ("Where do the authors work?", "affiliation"),
        ("Which university is the author attached to?", "affiliation"),
        ("Who funded the study?", "funding"),
        ("Who wrote the paper on trade zones?", "authors"),
        ("What are the keywords of the paper?", "keywords"),
        ("In which journal was the paper published?", "venue"),
        ("What challenges does the author describe?", None),
    ],
)
def test_front_matter_questions(question: str, field: str | None) -> None:
    assert analyse(question).front_matter == field


def test_compound_questions_split_into_their_parts() -> None:
    q = "How many rail runs have been made, and how many destinations does the service reach?"
    assert analyse(q).compound
    assert question_parts(q) == [
        "How many rail runs have been made?",
        "how many destinations does the service reach?",
    ]
    assert not analyse("How many rail runs have been made?").compound


def test_empty_and_missing_lexicons_work(tmp_path: Path) -> None:
    assert load_lexicon(None) is EMPTY
    assert load_lexicon(tmp_path / "absent.toml") is EMPTY
    empty = tmp_path / "lexicon.toml"
    empty.write_text("", encoding="utf-8")
    lexicon = load_lexicon(empty)
    assert lexicon.synonyms == {} and lexicon.list_nouns == ()
    assert normalise_query("What is the BRI?", lexicon) == "What is the BRI?"
    assert analyse("What shortcomings does the study identify?", lexicon).kind == "list"


def test_bundled_lexicon_expands_aliases_but_not_fta() -> None:
    lexicon = load_lexicon(LEXICON)
    assert normalise_query("BRI and S&T", lexicon).endswith("Belt and Road science and technology")
    assert normalise_query("R & D spending", lexicon).endswith("research and development")
    assert normalise_query("the FTA with Korea", lexicon) == "the FTA with Korea"
    assert lexicon.list_group("shortcomings") >= {"deficiencies", "weaknesses"}


def test_a_broken_lexicon_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "lexicon.toml"
    bad.write_text("[synonyms]\nBRI = 3\n", encoding="utf-8")
    with pytest.raises(AssistantError, match="synonyms"):
        load_lexicon(bad)
    bad.write_text("not = [toml", encoding="utf-8")
    with pytest.raises(AssistantError, match="lexicon"):
        load_lexicon(bad)
