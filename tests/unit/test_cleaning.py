"""Each cleaning rule on real excerpts of the bundled papers (000: wrapped; 003: PDF-extracted)."""

from __future__ import annotations

import re

import pytest

from assistant.corpus.cleaning import clean_text
from tests.conftest import CORPUS

pytestmark = pytest.mark.unit

RAW_000 = (CORPUS / "000_8bcc24135d439364.txt").read_text(encoding="utf-8")
RAW_001 = (CORPUS / "001_e32c79ad1fa0be66.txt").read_text(encoding="utf-8")
RAW_003 = (CORPUS / "003_8f09d066e0b864c5.txt").read_text(encoding="utf-8")


def _excerpt(raw: str, start: str, end: str) -> str:
    i = raw.index(start)
    return raw[i : raw.index(end, i) + len(end)]


def test_hard_wrapped_lines_rejoin_into_one_paragraph() -> None:
    raw = _excerpt(RAW_003, "In September and October 2013", "initiative [1].")
    assert "\n" in raw
    doc = clean_text(raw)
    assert "General Secretary Xi Jinping put forward the initiatives" in doc.text
    assert "\n" not in doc.text


def test_blank_line_inside_a_sentence_of_000_is_joined() -> None:
    doc = clean_text(RAW_000)
    assert "Xi Jinping pointed out that it is a" in doc.text


def test_real_compound_hyphen_at_line_break_is_kept() -> None:
    raw = _excerpt(
        RAW_003, "Zone, and put forward feasible path suggestions", "development in the light"
    )
    assert re.search(r"high-\s*\n", raw)
    assert "high-quality development in the light" in clean_text(raw).text


def test_word_split_at_line_break_is_rejoined() -> None:
    raw = (
        "strengthen the con-\nstruction of digital infrastructure and the inter-\nnational\n"
        "channels and so on for the high-\nquality growth of trade in the zone"
    )
    text = clean_text(raw).text
    assert "construction of digital" in text
    assert "international channels" in text
    assert "high-quality growth" in text


def test_page_furniture_is_dropped() -> None:
    raw = ""
    for page in range(1, 5):
        body = "".join(
            f"The zone attracted investment from firm number {page * 10 + i} in the region\n"
            for i in range(3)
        )
        raw += f"Journal of Trade Studies Vol. 3\n{body}\n{page}\n\f"
    doc = clean_text(raw)
    assert "Journal of Trade Studies" not in doc.text
    assert not re.search(r"(^|\s)[1-4](\s|$)", doc.text)
    assert doc.text.count("attracted investment") == 12


def test_numbered_and_parenthesised_headings_become_sections() -> None:
    doc = clean_text(RAW_003)
    titles = [s.title for s in doc.sections]
    assert (
        "2. The Development Status Quo and Shortcomings of Sichuan Pilot Free Trade Zone" in titles
    )
    assert "(3) Inadequate legal environment" in titles
    assert "(1) Deepening institutional innovation and strengthening differentiation" in titles
    assert "4.1 Financial risk" in [s.title for s in clean_text(RAW_000).sections]
    legal = next(s for s in doc.sections if s.title == "(3) Inadequate legal environment")
    assert "legal environment and policy support" in doc.text[legal.start : legal.end]


def test_reference_list_is_kept_out_of_the_answerable_text() -> None:
    doc = clean_text(RAW_001)
    assert "Research on the efficiency of scientific and technological innovation" not in doc.text
    assert "Research on the efficiency" in doc.references
    assert doc.references_raw_start == RAW_001.index("References")


def test_offsets_locate_a_raw_quote_in_clean_text_and_back() -> None:
    raw_quote = "Sichuan FTZ was established in March 2017 as the third"
    raw_start = RAW_003.index(raw_quote)
    doc = clean_text(RAW_003)
    clean_start = doc.to_clean(raw_start)
    assert doc.text[clean_start : clean_start + len(raw_quote)] == raw_quote
    assert doc.to_raw(clean_start) == raw_start


def test_offsets_span_a_line_break() -> None:
    doc = clean_text(RAW_003)
    phrase = "General Secretary Xi Jinping"
    c = doc.text.index(phrase)
    raw_span = RAW_003[doc.to_raw(c) : doc.to_raw(c + len(phrase))]
    assert " ".join(raw_span.split()) == phrase


def test_every_kept_run_is_verbatim_from_the_raw_file() -> None:
    for raw in (RAW_000, RAW_003):
        doc = clean_text(raw)
        for c, r, n in doc.segments:
            assert doc.text[c : c + n] == raw[r : r + n]
