"""What cleaning removes is counted per paper and shown; a mostly-removed paper is flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.embeddings import HashEmbedder
from assistant.ingest import Ingestor, IngestReport
from assistant.papers import index_info
from assistant.settings import Settings
from assistant.store import IndexSnapshot
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

TOC_PAPER = (
    "Freight corridors of western China\n\nContents\n1. Introduction\n2. Findings\nReferences\n\n"
    "1. Introduction\n\n"
    + " ".join(f"The Chengdu freight hub handled cargo route {i} in 2019." for i in range(60))
    + "\n\n2. Findings\n\n"
    + " ".join(
        f"Rail link {i} cut delivery times to Europe by {i % 9 + 2} days." for i in range(60)
    )
    + "\n"
)
BIBLIOGRAPHY = (
    "A short note\n\nThe note says one thing about ports.\n\nReferences\n\n"
    + "\n".join(
        f"[{i}] Wang, L., Chen, Y. ({1990 + i % 30}). Study {i}. J. Transp. Geogr., "
        f"{i}(2), {i}-{i + 9}. doi:10.1000/{i}"
        for i in range(1, 80)
    )
    + "\n"
)


def _ingest_one(tmp_path: Path, text: str) -> tuple[IndexSnapshot, IngestReport, Settings]:
    """Ingest one paper by path into an empty index."""
    (tmp_path / "corpus").mkdir()
    paper = tmp_path / "paper.txt"
    paper.write_text(text, encoding="utf-8")
    settings = make_settings(tmp_path, tmp_path / "corpus")
    snap, report = Ingestor(settings, HashEmbedder()).run([paper])
    return snap, report, settings


def test_a_references_line_in_the_contents_keeps_the_whole_paper(tmp_path: Path) -> None:
    snap, report, settings = _ingest_one(tmp_path, TOC_PAPER)
    (doc,) = snap.documents.values()
    assert "Rail link 59 cut delivery times" in doc.clean_text
    assert doc.cleaning["kept_share"] > 0.95 and not report.warnings
    info = index_info(snap, settings, "hash-64")
    assert info.papers[0].kept_share == doc.cleaning["kept_share"]


def test_a_mostly_removed_paper_is_reported_with_what_was_removed(tmp_path: Path) -> None:
    snap, report, settings = _ingest_one(tmp_path, BIBLIOGRAPHY)
    (doc_id,) = report.added
    assert "references" in report.warnings[doc_id] and "check the file" in report.warnings[doc_id]
    paper = index_info(snap, settings, "hash-64").papers[0]
    assert paper.removed["references"] > 0 and paper.warning == report.warnings[doc_id]
