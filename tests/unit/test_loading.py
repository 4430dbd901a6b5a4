"""Bad input gets one clear line saying what and why."""

from __future__ import annotations

import codecs
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


PAPER = "Chengdu–Europe rail freight\n\nTrains reached Łódź in 2019; café owners in 成都 noticed.\n"


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),  # no BOM, as some Windows tools write it
        ("utf-16-be", b""),
        ("utf-32-le", codecs.BOM_UTF32_LE),
        ("utf-32-be", codecs.BOM_UTF32_BE),
        ("utf-8", codecs.BOM_UTF8),
    ],
)
def test_utf16_and_utf32_text_is_decoded_not_called_binary(encoding: str, bom: bytes) -> None:
    """Was: "binary data … a PDF or Word file renamed?". The text (what offsets index) is the
    file's characters, without the BOM."""
    doc = load_bytes("notes.txt", bom + (PAPER * 3).encode(encoding))
    assert doc.text == PAPER * 3
    assert doc.text.index("Łódź") == PAPER.index("Łódź")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (codecs.BOM_UTF16_LE + PAPER.encode("utf-16-le")[:-1], "not UTF-16 text"),  # odd length
        (codecs.BOM_UTF16_LE + b"\x00\xdc" + PAPER.encode("utf-16-le"), "not UTF-16 text"),
        (PAPER.encode("utf-32-le"), "binary data"),  # UTF-32 needs its BOM
        (b"PK\x03\x04" + bytes(range(256)) * 8, "binary data"),
    ],
)
def test_what_is_not_utf16_is_still_refused(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        load_bytes("odd.txt", data)


def test_c1_controls_and_bidi_overrides_become_spaces_one_for_one() -> None:
    """Glued to a word they hid it from the reader ("2020\u202e" is not a year)."""
    from assistant.corpus.loading import load_bytes

    text = "The zone opened in 2020\u202e with \x9b31mred\x85 ports and \u2066isolated\u2069 text."
    doc = load_bytes("paper.txt", text.encode("utf-8"))
    assert len(doc.text) == len(text)  # offsets into the file stay exact
    assert "2020  with" in doc.text and "\u202e" not in doc.text and "\x9b" not in doc.text
    assert " isolated " in doc.text
    rtl = "\u05e9\u05dc\u05d5\u05dd\u200f world, and enough text to be a paper."
    assert load_bytes("rtl.txt", rtl.encode("utf-8")).text == rtl  # RTL marks are kept
