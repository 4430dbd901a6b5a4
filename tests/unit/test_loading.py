"""Bad input gets one clear line saying what and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus.loading import load_bytes, load_document
from assistant.errors import DocumentError
from tests.pdfs import encrypted_pdf, image_only_pdf, text_pdf

pytestmark = pytest.mark.unit


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    path = tmp_path / "paper.pdf"
    path.write_bytes(text_pdf("The Chengdu corridor opened in 2031 with 47 rail terminals."))
    doc = load_document(path)
    assert "47 rail terminals" in doc.text
    assert doc.kind == "pdf" and doc.doc_id == "paper.pdf"


def test_markdown_and_text_load_as_is(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Title\n\nSome text about Sichuan trade.", encoding="utf-8")
    assert load_document(tmp_path / "a.md").text.startswith("# Title")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("renamed.txt", b"PK\x03\x04\x00\x00binary" * 50, "binary data"),
        ("latin1.txt", "Caf\xe9 Chengdu trade statistics".encode("latin-1") * 5, "not UTF-8"),
        ("broken.pdf", text_pdf("Some text that is long enough.")[:400], "corrupt PDF"),
        ("fake.pdf", b"this is not a pdf at all, just text" * 3, "not a PDF"),
        ("locked.pdf", encrypted_pdf(), "encrypted PDF"),
        ("scan.pdf", image_only_pdf(), "no text layer"),
        ("notes.docx", b"whatever", "unsupported type"),
    ],
)
def test_bad_files_are_refused_with_a_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError) as info:
        load_bytes(name, data)
    assert reason in str(info.value)
    assert name in str(info.value)


def test_missing_path_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="no such file"):
        load_document(tmp_path / "nowhere.txt")


def test_size_limit(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="over the"):
        load_bytes("big.txt", b"word " * 300_000, max_mb=1)


def test_binary_after_the_first_8kb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"Clean text about Sichuan trade. " * 300 + bytes(range(1, 32)) * 400)
    with pytest.raises(DocumentError, match="binary data"):
        load_document(path)


def test_stray_control_characters_become_spaces_keeping_offsets(tmp_path: Path) -> None:
    path = tmp_path / "colour.txt"
    body = "Plain words about Chengdu. " * 400 + "\x1b[31mred\x1b[0m and a bell\x07 here."
    path.write_text(body, encoding="utf-8")
    text = load_document(path).text
    assert "\x1b" not in text and "\x07" not in text and len(text) == len(body)
