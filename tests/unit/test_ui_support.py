"""The UI's pure helpers: highlights, source cards, export, upload checks, progress."""

from __future__ import annotations

import html as html_module
import re
from datetime import datetime
from pathlib import Path

import pytest

from assistant.store import DocRecord
from assistant.types import Answer, Citation, Passage
from assistant.ui_support import (
    ChatEntry,
    answer_html,
    answer_markdown,
    check_upload,
    export_markdown,
    format_built_at,
    highlight_html,
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
