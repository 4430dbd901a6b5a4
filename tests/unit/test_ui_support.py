"""The UI's pure helpers: highlights, source cards, export, upload checks, progress."""

from __future__ import annotations

import html as html_module
import re
from datetime import datetime
from pathlib import Path

import pytest

from assistant.corpus.cleaning import clean_text
from assistant.papers import PaperInfo
from assistant.store import DocRecord
from assistant.types import Answer, Citation, Passage
from assistant.ui_support import (
    ChatEntry,
    SourceCard,
    answer_html,
    answer_markdown,
    authors_line,
    card_text,
    check_upload,
    export_markdown,
    format_built_at,
    highlight_html,
    pages_line,
    progress_value,
    safe_filename,
    source_cards,
    versions_line,
)

pytestmark = pytest.mark.unit

TEXT = "Intro line. Sichuan FTZ was established in March 2017. It has <three> areas costing $5."


def _passage(
    chunk_id: str = "d.txt#0", text: str = TEXT, start: int = 100, versions: list[str] | None = None
) -> Passage:
    return Passage(
        chunk_id=chunk_id,
        doc_id="d.txt",
        title="FTZ paper",
        section="2.1 Status",
        text=text,
        start=start,
        end=start + len(text),
        versions=versions or [],
    )


def _citation(marker: int, passage: Passage, quote: str) -> Citation:
    at = passage.start + passage.text.index(quote)
    return Citation(
        marker=marker,
        passage=passage,
        doc_id=passage.doc_id,
        quote=quote,
        start=at,
        end=at + len(quote),
    )


def test_highlight_marks_the_quote_at_its_offset() -> None:
    quote = "Sichuan FTZ was established in March 2017."
    html = highlight_html(TEXT, [(quote, TEXT.index(quote))])
    assert html.startswith("Intro line. <mark>Sichuan FTZ was established in March 2017.</mark> ")


def test_highlight_escapes_html_and_dollars_outside_and_inside_marks() -> None:
    html = highlight_html(TEXT, [("It has <three> areas", None)])
    assert "<mark>It has &#60;three&#62; areas</mark>" in html
    assert "<three>" not in html
    assert "&#36;5" in html and "$" not in html


def test_highlight_finds_quote_despite_wrong_offset_and_other_whitespace() -> None:
    text = "First.\nSichuan FTZ was\nestablished in 2017. Last."
    html = highlight_html(text, [("Sichuan FTZ was established in 2017.", 0)])
    assert html == "First.<br><mark>Sichuan FTZ was<br>established in 2017.</mark> Last."


def test_highlight_without_a_match_leaves_text_unmarked() -> None:
    assert "<mark>" not in highlight_html(TEXT, [("Not in the passage.", 3)])


def test_overlapping_quotes_make_one_mark() -> None:
    html = highlight_html("aaa bbb ccc ddd", [("aaa bbb", 0), ("bbb ccc", 4)])
    assert html == "<mark>aaa bbb ccc</mark> ddd"


def test_source_cards_group_citations_by_passage_in_marker_order() -> None:
    first, second = _passage("d.txt#0"), _passage("d.txt#1", start=900)
    cits = [
        _citation(2, first, "It has <three> areas"),
        _citation(1, first, "Sichuan FTZ was established in March 2017."),
        _citation(3, second, "Intro line."),
    ]
    cards = source_cards(cits)
    assert [c.markers for c in cards] == [[1, 2], [3]]
    assert cards[0].quotes[0] == ("Sichuan FTZ was established in March 2017.", 12)
    assert cards[1].passage.chunk_id == "d.txt#1"


def test_answer_html_styles_markers_and_keeps_text_literal() -> None:
    html = answer_html("It costs $5 <b>now</b> [1] and [12].")
    assert html == (
        'It costs &#36;5 &#60;b&#62;now&#60;/b&#62; <span class="bri-cite">[1]</span> and '
        '<span class="bri-cite">[12]</span>.'
    )


def test_markdown_in_a_paper_is_shown_as_text_not_rendered() -> None:
    """A paper's `![x](http://…)` must not load a remote image, nor a link or URL render."""
    import markdown_it

    paper = (
        "See ![x](http://evil.example/a.png) and [site](http://evil.example) **bold** "
        "`code` <img src=x> <http://evil.example> $5 and $3"
    )
    for rendered in (answer_html(paper), highlight_html(paper, []), answer_markdown(paper)):
        # commonmark has raw HTML on, as st.markdown(unsafe_allow_html=True) does
        html = markdown_it.MarkdownIt("commonmark").render(rendered)
        assert "<img" not in html and "<a " not in html and "<strong>" not in html
        assert "<code>" not in html
        # what the reader sees is the paper's own characters
        text = re.sub(r"<[^>]+>", "", html)
        assert "![x](http://evil.example/a.png)" in html_module.unescape(text)


def test_answer_lists_stay_lists() -> None:
    rendered = answer_markdown("Three areas:\n- Chengdu [1]\n- Luzhou_port [2]\n1. first")
    assert rendered.splitlines()[1].startswith("- Chengdu ")
    assert rendered.splitlines()[3].startswith("1. first")
    assert "Luzhou&#95;port" in rendered


def test_versions_line_names_the_other_versions() -> None:
    docs = {"v2.txt": DocRecord(doc_id="v2.txt", path="v2.txt", title="Revised", content_hash="h")}
    line = versions_line(_passage(versions=["v2.txt"]), docs)
    assert line == "Also in version “Revised” (v2.txt)"
    assert versions_line(_passage(), docs) == ""


def test_export_includes_answers_quotes_sources_abstentions_and_errors() -> None:
    p = _passage()
    quote = "Sichuan FTZ was established in March 2017."
    answered = Answer(
        question="When?",
        text="In March 2017. [1]",
        citations=[_citation(1, p, quote)],
        passages=[p],
        notice="Question shortened.",
    )
    declined = Answer(question="Capital?", text="Not answered.", abstained=True, passages=[p])
    entries = [
        ChatEntry("When?", answered),
        ChatEntry("Capital?", declined),
        ChatEntry("x", error="boom"),
    ]
    md = export_markdown(entries, now=datetime(2026, 1, 2, 3, 4))
    assert md.startswith("# BRI Papers Assistant: chat export\n\n_Exported 2026-01-02 03:04_")
    assert "## 1. When?\n\nIn March 2017. [1]\n" in md
    assert "- [1] FTZ paper, 2.1 Status (d.txt)\n  > Sichuan FTZ was established in March" in md
    assert "> _Note: Question shortened._" in md
    assert "## 2. Capital?\n\nNot answered.\n\n**Closest passages (not an answer):**" in md
    assert "## 3. x\n\n**Error:** boom" in md


@pytest.mark.parametrize(
    ("name", "size", "level", "words"),
    [
        ("paper.docx", 10, "error", "unsupported type"),
        ("paper", 10, "error", "unsupported type"),
        ("paper.pdf", 0, "error", "empty file"),
        ("paper.pdf", 3 * 1024 * 1024, "error", "over the 2 MB limit"),
        ("taken.txt", 10, "warning", "already indexed"),
        ("003_corpus.txt", 10, "warning", "already indexed"),
    ],
)
def test_check_upload_refuses_bad_files(
    tmp_path: Path, name: str, size: int, level: str, words: str
) -> None:
    (tmp_path / "taken.txt").write_text("x")
    problem = check_upload(name, size, 2.0, tmp_path, indexed={"003_corpus.txt"})
    assert problem is not None
    assert (problem.level, words in problem.message) == (level, True)


def test_check_upload_accepts_a_new_paper(tmp_path: Path) -> None:
    assert check_upload("New Paper.PDF", 1024, 2.0, tmp_path, indexed={"other.txt"}) is None


def test_safe_filename_drops_folders_and_leading_dots() -> None:
    assert safe_filename("../../etc/passwd.txt") == "passwd.txt"
    assert safe_filename("C:\\Users\\me\\paper.md") == "paper.md"
    assert safe_filename(".hidden.md") == "hidden.md"


def test_progress_maps_stages_onto_one_bar() -> None:
    assert progress_value("reading", 0, 4) == (0.0, "Reading 0/4")
    assert progress_value("reading", 4, 4)[0] == pytest.approx(0.3)
    assert progress_value("embedding", 1, 2)[0] == pytest.approx(0.5)
    assert progress_value("sentences", 2, 2)[0] == pytest.approx(1.0)
    assert progress_value("embedding", 0, 0)[0] == pytest.approx(0.7)  # sentences follow


def test_format_built_at() -> None:
    assert format_built_at("2026-11-23T09:34:31Z") == "2026-11-23 09:34 UTC"
    assert format_built_at(None) == "unknown"
    assert format_built_at("yesterday") == "yesterday"


# -- a paper's own reference marks, list items, authors, pages, a safe export -------------

REF_RE = re.compile(r'<span class="bri-paper-ref"[^>]*>(.*?)</span>')
CITE_RE = re.compile(r'<span class="bri-cite">(.*?)</span>')


def test_a_papers_own_reference_marks_are_styled_apart_from_the_markers() -> None:
    quote = "Xi Jinping called it a road to peace [1]."
    p = _passage(text=f"Intro. {quote} More [12, 13] and [3\u20135].")
    answer = f"{quote} [1] It also cites [7]."
    html = answer_html(answer, [_citation(1, p, quote)])
    assert CITE_RE.findall(html) == ["[1]"]  # the app's marker, after the quote
    assert [html_module.unescape(r) for r in REF_RE.findall(html)] == ["[1]", "[7]"]
    card = highlight_html(p.text, [(quote, 7)])
    assert [html_module.unescape(r) for r in REF_RE.findall(card)] == [
        "[1]",
        "[12, 13]",
        "[3\u20135]",
    ]
    assert "bri-cite" not in card
    assert "<mark>Xi Jinping called it a road to peace " in card  # the mark still highlighted


def test_without_citations_every_single_marker_is_the_apps() -> None:
    html = answer_html("Streaming [1] then [2].")  # as shown while the answer streams in
    assert CITE_RE.findall(html) == ["[1]", "[2]"] and not REF_RE.findall(html)


LIST_PASSAGE = (
    "There are still some deficiencies in the zone:\n\n"
    "(1) Insufficient differentiation of institutional innovations\n"
    "(2) Deficiencies in foreign trade\n"
    "(3) Inadequate legal environment\n"
    "(4) The problem of brain drain\n"
    "(5) Weak services\n\n"
    "In the development of traditional embroidery, many patterns have very gorgeous colors."
)


def test_a_cited_list_item_shows_its_neighbouring_items_not_the_paragraph_under_it() -> None:
    quote = "(2) Deficiencies in foreign trade"
    shown = card_text(LIST_PASSAGE, [(quote, LIST_PASSAGE.index(quote))])
    assert shown.trimmed
    assert shown.text.startswith("(1) Insufficient") and shown.text.endswith(
        "(4) The problem of brain drain"
    )
    assert "embroidery" not in shown.text and "(5)" not in shown.text
    ((q, off),) = shown.quotes
    assert off is not None and shown.text[off : off + len(q)] == quote
    assert "<mark>(2) Deficiencies in foreign trade</mark>" in html_module.unescape(
        highlight_html(shown.text, shown.quotes)
    )


def test_an_item_heading_alone_drops_the_paragraph_under_it() -> None:
    text = "(2) Deficiencies in foreign trade\n\nIn the development of traditional embroidery."
    shown = card_text(text, [("(2) Deficiencies in foreign trade", 0)])
    assert (shown.text, shown.trimmed) == ("(2) Deficiencies in foreign trade", True)


@pytest.mark.parametrize(
    "quote",
    [
        "In the development of traditional embroidery, many patterns have very gorgeous colors.",
        "There are still some deficiencies in the zone:",  # over the list, not an item of it
    ],
)
def test_a_quote_from_prose_keeps_the_whole_passage(quote: str) -> None:
    shown = card_text(LIST_PASSAGE, [(quote, None)])
    assert (shown.text, shown.trimmed) == (LIST_PASSAGE, False)


def test_mixed_quotes_keep_the_whole_passage() -> None:
    quotes = [("(2) Deficiencies in foreign trade", None), ("many patterns have", None)]
    assert card_text(LIST_PASSAGE, quotes).text == LIST_PASSAGE


UPLOAD_TEXT = (
    "Freight Corridors of Western China\n\n"
    "Ann Lee, Bo Chen\n\n"
    "School of Economics, Sichuan University, Chengdu 610065, China\n\n"
    "1. Introduction\n\n"
    "The corridor connects the rail port with inland dry ports.\n\n"
    "It was planned by the provincial logistics office.\n\n"
    "Its first year carried mostly electronics.\n\n"
    "Trains left twice a week for Central Asia.\n\n"
    "Freight rates fell by a tenth in its second year.\n\n"
    "Most cargo returned empty, which the office plans to change.\n"
)


def _record(doc_id: str, text: str) -> DocRecord:
    clean = clean_text(text)
    sections = [[s.title, s.start, s.end] for s in clean.sections]
    return DocRecord(
        doc_id=doc_id,
        path=f"uploads/{doc_id}",
        title="Freight Corridors of Western China",
        content_hash="h",
        source="upload",
        clean_text=clean.text,
        sections=sections,
    )


def _info(doc_id: str, authors: tuple[str, ...] = ()) -> PaperInfo:
    return PaperInfo(doc_id, "Freight", "upload", f"uploads/{doc_id}", "ok", authors=authors)


def test_authors_of_an_upload_come_from_its_own_author_line() -> None:
    docs = {"up.txt": _info("up.txt"), "cat.txt": _info("cat.txt", ("Zhang Wei",))}
    records = {"up.txt": _record("up.txt", UPLOAD_TEXT), "cat.txt": _record("cat.txt", UPLOAD_TEXT)}
    assert authors_line("up.txt", docs, records) == "Ann Lee, Bo Chen"
    assert authors_line("cat.txt", docs, records) == "Zhang Wei"  # the catalog's names first
    assert authors_line("up.txt", docs) == "Authors not stated in the text"
    no_names = {"up.txt": _record("up.txt", "A note\n\n1. Body\n\nJust text about ports.")}
    assert authors_line("up.txt", docs, no_names) == "Authors not stated in the text"


def test_authors_of_a_stored_upload_are_read_from_its_title_block(tmp_path: Path) -> None:
    from tests.llm_fixtures import tiny_assistant

    bot = tiny_assistant(tmp_path)
    bot.add_upload("freight.txt", UPLOAD_TEXT.encode())
    docs = {p.doc_id: p for p in bot.info().papers}
    (doc_id,) = [d for d, p in docs.items() if p.source == "upload"]
    assert not docs[doc_id].authors  # an upload has no catalog entry
    assert authors_line(doc_id, docs, bot.snapshot.documents) == "Ann Lee, Bo Chen"


def test_cards_and_export_name_the_pdf_page() -> None:
    p = _passage().model_copy(update={"pages": (3, 4)})
    quote = "Sichuan FTZ was established in March 2017."
    cit = _citation(1, p, quote).model_copy(update={"page": 4})
    (card,) = source_cards([cit])
    assert pages_line(card) == "p. 4"
    assert pages_line(SourceCard(passage=p)) == "pp. 3\u20134"  # a passage without a quote
    assert pages_line(SourceCard(passage=_passage())) == ""  # a text paper
    answer = Answer(question="When?", text=f"{quote} [1]", citations=[cit], passages=[p])
    assert "- [1] FTZ paper, 2.1 Status, p. 4 (d.txt)" in export_markdown([ChatEntry("q", answer)])


HOSTILE = (
    'Result <script>alert(1)</script> <img src=x onerror="alert(2)"> '
    '<iframe src="http://evil.example"></iframe> ![t](http://evil.example/p.png) '
    "\x1b[31mred\x1b[0m \u202egnp.exe\u202c \x07bell"
)


def test_export_escapes_html_and_controls_from_papers_and_questions() -> None:
    import markdown_it

    p = _passage(text=f"Intro. {HOSTILE} End.").model_copy(update={"title": "T <b>x</b>"})
    answer = Answer(
        question=HOSTILE,
        text=f"{HOSTILE} [1]",
        citations=[_citation(1, p, HOSTILE)],
        passages=[p],
        notice=HOSTILE,
    )
    entries = [ChatEntry(HOSTILE, answer), ChatEntry("x", error=HOSTILE)]
    md = export_markdown(entries)
    for raw in ("<script", "<img", "<iframe", "<b>", "\x1b", "\u202e", "\x07"):
        assert raw not in md, raw
    rendered = markdown_it.MarkdownIt("commonmark").render(md)
    for tag in ("<script", "<img", "<iframe", "<b>"):
        assert tag not in rendered, tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md  # still readable as text
    assert "red" in md and "[1]" in md
    assert md.count("\n## ") == 2  # a question holding a newline cannot start a heading


def test_cards_drop_controls_and_bidi_overrides() -> None:
    html = highlight_html(f"Intro. {HOSTILE}", [])
    assert "\x1b" not in html and "\u202e" not in html and "\x07" not in html
    assert "<script" not in html and "<img" not in html
