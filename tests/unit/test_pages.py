"""PDF page numbers on citations and passages: from the loader's page starts, through the
clean -> raw offset map, to ``Citation.page`` / ``Passage.pages``, the CLI and ``--json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from fpdf import FPDF

from assistant import Assistant
from assistant.corpus.cleaning import clean_text
from assistant.corpus.loading import load_bytes
from assistant.corpus.pages import PageFinder, page_at, page_label, page_span
from assistant.embeddings import HashEmbedder
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

YIBIN = "The Yibin river port handled 9.4 million tonnes of cargo in 2021."
TIANFU = "The Tianfu airport cargo terminal opened its second hall in 2023."
LUZHOU = "The Luzhou port handled 5.1 million tonnes of cargo in 2020."
PAGES = (
    (
        "Rail Freight and River Ports in Western China",
        "1. Introduction",
        "This note surveys freight routes in the western provinces. Railways carry most "
        "container traffic inland.",
    ),
    ("2. River ports", f"{YIBIN} Barges link it to Chongqing downstream."),
    ("3. Air cargo", f"{TIANFU} Its freight flights serve Europe twice a week."),
)


def pages_pdf(pages: tuple[tuple[str, ...], ...] = PAGES) -> bytes:
    """One PDF page per tuple of paragraphs."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for paragraphs in pages:
        pdf.add_page()
        for para in paragraphs:
            pdf.multi_cell(0, 6, para, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    return bytes(pdf.output())


@dataclass
class _Doc:
    doc_id: str
    page_starts: list[int]
    segments: list[list[int]] = field(default_factory=list)


def test_page_at_bisects_the_page_starts() -> None:
    starts = [0, 100, 250]
    assert [page_at(starts, p) for p in (0, 99, 100, 249, 250, 900)] == [1, 1, 2, 2, 3, 3]
    assert page_at([], 40) is None


def test_page_span_and_label() -> None:
    starts = [0, 100, 250]
    assert page_span(starts, 90, 100) == (1, 1)  # the end is exclusive
    assert page_span(starts, 90, 101) == (1, 2)
    assert page_span([], 0, 10) is None
    assert page_label(4) == "p. 4"
    assert page_label(4, 4) == "p. 4"
    assert page_label(4, 5) == "pp. 4\u20135"
    assert page_label(None) == ""


def test_finder_maps_clean_spans_through_the_cleaner_to_pages() -> None:
    raw = (
        "Freight Notes\n\n1. Introduction\n\nRailways carry containers.\f"
        "Barges carry coal down the river to the sea. Ports\nwiden each year.\f"
        "Airports carry parcels."
    )
    starts = [0, *(i + 1 for i, ch in enumerate(raw) if ch == "\f")]
    clean = clean_text(raw)
    doc = _Doc("notes.pdf", starts, [list(s) for s in clean.segments])
    finder = PageFinder()

    def pages_of(phrase: str) -> tuple[int, int] | None:
        at = clean.text.index(phrase)
        return finder.span(doc, at, at + len(phrase))

    assert pages_of("Railways carry containers.") == (1, 1)
    assert pages_of("Barges carry coal") == (2, 2)
    assert pages_of("Airports carry parcels.") == (3, 3)
    end = clean.text.index("Airports") + 3
    assert finder.span(doc, clean.text.index("widen"), end) == (2, 3)
    assert finder.span(_Doc("a.txt", []), 0, 5) is None  # text papers have no pages


def test_loader_keeps_one_start_per_page() -> None:
    raw = load_bytes("freight.pdf", pages_pdf())
    assert len(raw.page_starts) == 3 and raw.page_starts[0] == 0
    for n, start in enumerate(raw.page_starts[1:], 1):
        assert raw.text[start - 1] == "\f", n
    assert YIBIN.split()[1] in raw.text[raw.page_starts[1] : raw.page_starts[2]]


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("pages")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "freight.pdf").write_bytes(pages_pdf())
    (corpus / "ports.txt").write_text(
        f"Notes on Ports\n\n1. Ports\n\n{LUZHOU} Its quays were rebuilt.\n", encoding="utf-8"
    )
    return Assistant.load(make_settings(root, corpus), embedder=HashEmbedder())


@pytest.mark.parametrize(
    ("question", "page"),
    [
        ("How much cargo did the Yibin river port handle in 2021?", 2),
        ("When did the Tianfu airport cargo terminal open its second hall?", 3),
    ],
)
def test_citation_names_the_page_its_quote_is_on(bot: Assistant, question: str, page: int) -> None:
    answer = bot.ask(question)
    cite = next(c for c in answer.citations if c.doc_id == "freight.pdf")
    assert cite.page == page and cite.page_end is None
    assert cite.passage.pages is not None
    assert cite.passage.pages[0] <= page <= cite.passage.pages[1]
    assert json.loads(answer.model_dump_json())["citations"][0]["page"] == page


def test_text_papers_have_no_pages(bot: Assistant) -> None:
    answer = bot.ask("How much cargo did the Luzhou port handle in 2020?")
    cite = next(c for c in answer.citations if c.doc_id == "ports.txt")
    assert cite.page is None and cite.page_end is None and cite.passage.pages is None


def test_retrieved_passages_carry_their_pages(bot: Assistant) -> None:
    passages = bot.retrieve("Tianfu airport cargo terminal second hall", k=3)
    pdf = next(p for p in passages if p.doc_id == "freight.pdf" and "Tianfu" in p.text)
    assert pdf.pages == (3, 3)


def test_cli_sources_show_the_page(bot: Assistant, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli_render import print_answer

    answer = bot.ask("When did the Tianfu airport cargo terminal open its second hall?")
    print_answer(answer, as_json=False, note=lambda _: None)
    assert "p. 3" in capsys.readouterr().out
