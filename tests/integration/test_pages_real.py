"""Page numbers with the real model: a multi-page PDF uploaded into a fresh index, asked about
its second and third pages; the text paper beside it has no pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.embeddings import CachedEmbedder
from assistant.types import Citation
from tests.conftest import make_settings
from tests.unit.test_pages import LUZHOU, pages_pdf

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, real_embedder: CachedEmbedder) -> Assistant:
    root = tmp_path_factory.mktemp("pages-real")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "ports.txt").write_text(
        f"Notes on Ports\n\n1. Ports\n\n{LUZHOU} Its quays were rebuilt.\n", encoding="utf-8"
    )
    assistant = Assistant.load(make_settings(root, corpus), embedder=real_embedder)
    assistant.add_upload("freight.pdf", pages_pdf())
    return assistant


def _cited(bot: Assistant, question: str, file_name: str) -> Citation:
    """The answer's citation of the paper uploaded or kept as ``file_name``."""
    answer = bot.ask(question)
    assert not answer.abstained, answer.text
    names = {p.doc_id: Path(p.path).name for p in bot.info().papers}
    found = [c for c in answer.citations if names[c.doc_id] == file_name]
    assert found, f"no citation of {file_name}: {answer.text}"
    return found[0]


@pytest.mark.parametrize(
    ("question", "page", "fact"),
    [
        ("How much cargo did the Yibin river port handle in 2021?", 2, "9.4 million"),
        ("When did the Tianfu airport cargo terminal open its second hall?", 3, "2023"),
    ],
)
def test_uploaded_pdf_citation_names_its_page(
    bot: Assistant, question: str, page: int, fact: str
) -> None:
    cite = _cited(bot, question, "freight.pdf")
    assert fact in cite.quote
    assert cite.page == page


def test_text_paper_citation_has_no_page(bot: Assistant) -> None:
    cite = _cited(bot, "How much cargo did the Luzhou port handle in 2020?", "ports.txt")
    assert "5.1 million" in cite.quote
    assert cite.page is None and cite.passage.pages is None
