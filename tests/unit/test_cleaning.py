"""Each cleaning rule on real excerpts of the bundled papers (000: wrapped; 003: PDF-extracted)."""

from __future__ import annotations

import re

import pytest

from assistant.corpus.cleaning import CleanDocument, clean_text, cleaning_warning
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


# -- the reference list is a section, not the first line that says "References" (issue 20) ------

PROSE = (
    "The Chengdu rail freight hub grew quickly because new express trains reached Lodz and "
    "Nuremberg, and the pilot zone cut customs clearance times for exporters in the west. "
)
NUMBERED_REFS = "\n".join(
    f"[{k}] Li H J, Zhao Y. Trade and innovation in western province number {k} [J]. "
    f"Economic Review, {2010 + k}, {k}(2): {10 * k}-{10 * k + 9}."
    for k in range(1, 9)
)
AUTHOR_YEAR_REFS = """Anderson, J. E., & van Wincoop, E. (2003). Gravity with gravitas: A solution
to the border puzzle. American Economic Review, 93(1), 170-192.
Baldwin, R. (2016). The great convergence: Information technology and the new globalization.
Cambridge, MA: Harvard University Press.
Chen, X., Li, Y., & Wang, Z. (2019). Free trade zones and regional growth in China. Journal
of Asian Economics, 62, 1-15. https://doi.org/10.1016/j.asieco.2019.01.001
Du, J., & Zhang, Y. (2018). Does One Belt One Road initiative promote Chinese overseas direct
investment? China Economic Review, 47, 189-205.
Frankel, J. A., & Romer, D. (1999). Does trade cause growth? American Economic Review, 89(3),
379-399."""
BODY = "1. Introduction\n\n" + PROSE * 6 + "\n\n2. Results\n\n" + PROSE * 6 + "\n"


def _solid(text: str) -> int:
    return sum(len(w) for w in text.split())


def test_table_of_contents_references_line_keeps_the_whole_paper() -> None:
    raw = "Contents\n\n1. Introduction\n2. Results\nReferences\nAppendix\n\n" + BODY
    doc = clean_text(raw)
    assert doc.references_raw_start is None and doc.references == ""
    assert doc.text.count("Chengdu rail freight hub") == 12
    assert doc.kept_share == 1.0 and doc.removed == {}


def test_one_word_per_line_extraction_with_references_is_indexed_whole() -> None:
    words = (PROSE * 3).split()
    words.insert(14, "References")
    raw = "\n".join(words)
    doc = clean_text(raw)
    assert doc.references_raw_start is None
    assert doc.kept_words == doc.raw_words == len(words)
    # common words on their own line repeat, but they are not page furniture here
    assert doc.text.split() == words


def test_numbered_reference_list_at_the_end_is_split_off() -> None:
    raw = BODY + "\nReferences\n\n" + NUMBERED_REFS + "\n"
    doc = clean_text(raw)
    assert doc.references_raw_start == raw.index("References")
    assert "Economic Review" not in doc.text
    assert doc.references.splitlines() == NUMBERED_REFS.splitlines()
    assert doc.text.count("Chengdu rail freight hub") == 12


def test_author_year_reference_list_is_split_off() -> None:
    raw = BODY + "\nREFERENCES\n" + AUTHOR_YEAR_REFS + "\n"
    doc = clean_text(raw)
    assert doc.references_raw_start == raw.index("REFERENCES")
    assert "Gravity with gravitas" in doc.references and "Gravity" not in doc.text
    assert doc.removed == {"references": _solid("REFERENCES\n" + AUTHOR_YEAR_REFS)}


def test_references_heading_followed_by_prose_is_kept() -> None:
    raw = BODY + "\nReferences\n\n" + PROSE * 8 + "\n"
    doc = clean_text(raw)
    assert doc.references_raw_start is None
    assert doc.text.count("Chengdu rail freight hub") == 20
    assert "References" in [s.title for s in doc.sections]


def test_appendix_after_the_reference_list_is_kept() -> None:
    appendix = "Appendix A. Survey design\n\n" + "Firms in Deyang answered twelve questions. " * 9
    raw = BODY + "\nReferences\n\n" + NUMBERED_REFS + "\n\n" + appendix + "\n"
    doc = clean_text(raw)
    assert doc.references_raw_start == raw.index("References")
    assert "Economic Review" not in doc.text
    assert doc.text.count("Firms in Deyang answered twelve questions.") == 9
    assert doc.references.splitlines() == NUMBERED_REFS.splitlines()
    start = doc.text.index("Appendix A")
    assert doc.to_raw(start) == raw.index("Appendix A")


def test_the_last_qualifying_references_heading_is_the_list() -> None:
    raw = (
        "Contents\nIntroduction\nResults\nReferences\n\n"
        + BODY
        + "\nReferences\n\n"
        + NUMBERED_REFS
    )
    doc = clean_text(raw)
    assert doc.references_raw_start == raw.rindex("References")
    assert doc.text.startswith("Contents") and "Economic Review" not in doc.text


def test_a_citation_list_near_the_start_is_not_the_reference_list() -> None:
    raw = "References\n\n" + NUMBERED_REFS + "\n\n" + BODY * 2
    doc = clean_text(raw)
    assert doc.references_raw_start is None
    assert "Economic Review" in doc.text


# -- what cleaning removed, by reason -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.txt")))
def test_kept_and_removed_add_up_on_the_bundled_papers(name: str) -> None:
    raw = (CORPUS / name).read_text(encoding="utf-8")
    doc = clean_text(raw)
    assert doc.raw_chars == _solid(raw) and doc.raw_words == len(raw.split())
    assert doc.kept_chars == _solid(doc.text)
    assert doc.kept_share > 0.9


def test_every_removal_path_is_counted() -> None:
    raw = ""
    for page in range(1, 5):
        raw += "Journal of Trade Studies Vol. 3\n"
        raw += (
            f"in zone {page} the con-\nstruction of digital infra\u00adstructure {page} grew in\n"
        )
        raw += f"quarter {page} of the year under review\n\n{page}\n\f"
    raw += "References\n\n" + NUMBERED_REFS
    doc = clean_text(raw)
    furniture = 4 * _solid("Journal of Trade Studies Vol. 3") + _solid("1234")
    assert doc.removed == {
        "references": _solid("References" + NUMBERED_REFS),
        "page furniture": furniture,
        "hyphenation joins": 4,
        "soft hyphens": 4,
    }
    assert doc.kept_chars == _solid(doc.text) == doc.raw_chars - sum(doc.removed.values())
    assert doc.text.count("the construction of digital infrastructure") == 4


def test_reference_split_of_the_bundled_papers() -> None:
    splits = {
        name: clean_text((CORPUS / name).read_text(encoding="utf-8")).references_raw_start
        for name in ("000_8bcc24135d439364.txt", "003_8f09d066e0b864c5.txt")
    }
    assert splits == dict.fromkeys(splits)  # no reference list in these two
    for raw in (RAW_001, (CORPUS / "004_b411ba9664f361c8.txt").read_text(encoding="utf-8")):
        doc = clean_text(raw)
        assert doc.references_raw_start == raw.rindex("References")
        assert doc.text.rstrip().endswith(raw[: doc.references_raw_start].rstrip()[-30:])


def test_warning_names_what_removed_most_of_the_text() -> None:
    doc = CleanDocument(
        text=" ".join(["word"] * 14),
        sections=[],
        segments=[],
        raw_chars=3000,
        raw_words=503,
        removed={"references": 2910, "page furniture": 30},
    )
    assert cleaning_warning(doc) == (
        "kept 2 % of the text: 14 of 503 words; 97 % was removed as references, "
        "1 % was removed as page furniture — check the file"
    )
    assert cleaning_warning(doc, min_share=0.01) is None


def test_warning_fires_on_a_paper_that_is_mostly_reference_list() -> None:
    raw = "Short note\n\n" + PROSE + "\n\nReferences\n\n" + "\n".join([NUMBERED_REFS] * 10)
    doc = clean_text(raw)
    warning = cleaning_warning(doc)
    kept = len(f"Short note {PROSE}".split())
    assert warning is not None and warning.startswith(f"kept 2 % of the text: {kept} of ")
    assert "% was removed as references" in warning


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.txt")))
def test_no_warning_on_the_bundled_papers(name: str) -> None:
    assert cleaning_warning(clean_text((CORPUS / name).read_text(encoding="utf-8"))) is None
