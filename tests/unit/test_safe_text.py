"""Text from papers and file names cannot act on a terminal or forge lines; ordinary text of
any script passes through unchanged."""

from __future__ import annotations

import pytest

from assistant.safe_text import clean_for_display, is_display_safe, one_line

pytestmark = pytest.mark.unit

C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = [
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]
C0 = [chr(c) for c in range(0x20) if chr(c) not in "\t\n"] + ["\x7f"]


@pytest.mark.parametrize(
    "text",
    [
        "Sichuan FTZ was established in March 2017.",
        "Café Zürich, São Paulo, Kraków, İstanbul",
        "四川自由贸易试验区 成立于2017年",
        "مرحبا بالعالم and שלום",  # right-to-left letters are text, not controls
        "emoji 👍🏽 and a family 👨\u200d👩\u200d👧 (zero-width joiners kept)",
        "Tabs\tand\nnewlines\nstay",
        "a backslash \\n is two characters, C:\\papers\\notes.txt",
    ],
)
def test_ordinary_text_passes_through(text: str) -> None:
    assert clean_for_display(text) == text
    assert is_display_safe(text)
    if "\n" not in text and "\t" not in text:
        assert one_line(text) == text


@pytest.mark.parametrize("char", C1 + BIDI + C0 + ["\u2028", "\u2029"])
def test_every_hidden_character_is_removed_or_escaped(char: str) -> None:
    text = f"before{char}—after"  # "—" ends no escape sequence: only the character goes
    shown = clean_for_display(text)
    assert char not in shown or char == "\n"
    assert "before" in shown and "after" in shown
    assert is_display_safe(shown)
    flat = one_line(text)
    assert char not in flat and "\n" not in flat
    assert flat.startswith("before\\") and flat.endswith("—after")  # visible, not dropped
    assert is_display_safe(flat, multiline=False)
    assert not is_display_safe(text, multiline=False)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a \x1b[31mred\x1b[0m word", "a red word"),  # 7-bit CSI: colours
        ("a \x9b31mred\x9b0m word", "a red word"),  # 8-bit CSI (U+009B)
        ("title\x1b]0;pwned\x07end", "titleend"),  # OSC window title, BEL-terminated
        ("title\x9d0;pwned\x9cend", "titleend"),  # 8-bit OSC, ST-terminated
        ("link \x1b]8;;http://evil\x1b\\text\x1b]8;;\x1b\\ here", "link text here"),
        ("reset\x1bc done", "reset done"),  # two-byte ESC sequence
        ("keep \x9d the rest", "keep  the rest"),  # unterminated: only the introducer goes
        ("invoice\u202egnp.exe", "invoicegnp.exe"),  # right-to-left override
        ("over\rwrite", "over\nwrite"),  # a carriage return cannot overwrite the line
        ("crlf\r\nline", "crlf\nline"),
        ("page\x0cbreak", "page\nbreak"),
        ("bad \udcff byte", "bad \ufffd byte"),  # a file name's undecodable byte
    ],
)
def test_sequences_and_controls_are_removed(text: str, shown: str) -> None:
    assert clean_for_display(text) == shown
    assert is_display_safe(clean_for_display(text))


def test_one_line_text_has_no_breaks() -> None:
    text = "Title\nsecond line\tcell\r\nthird\u2028fourth"
    assert clean_for_display(text, keep_newlines=False) == "Title second line cell third fourth"


def test_a_file_name_cannot_forge_a_line() -> None:
    name = "paper\nerror: index corrupted, run rm -rf ~.txt"
    assert one_line(name) == "paper\\nerror: index corrupted, run rm -rf ~.txt"
    assert len(f"skipped {one_line(name)}: empty file".splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("a\tb\rc", "a\\tb\\rc"),
        ("esc\x1b[2Jname", "esc\\x1b[2Jname"),
        ("csi\x9bname", "csi\\x9bname"),
        ("rlo\u202etxt.exe", "rlo\\u202etxt.exe"),
        ("iso\u2066x\u2069", "iso\\u2066x\\u2069"),
        ("latin1 caf\udce9.txt", "latin1 caf\\xe9.txt"),  # os.fsdecode's surrogate escape
        ("nul\x00", "nul\\x00"),
    ],
)
def test_names_show_hidden_characters_visibly(name: str, shown: str) -> None:
    assert one_line(name) == shown


def test_output_can_always_be_encoded() -> None:
    """Lone surrogates would raise UnicodeEncodeError when printed; neither function keeps one."""
    for text in ("\udcff\udcfe what", "\ud800 alone"):
        clean_for_display(text).encode("utf-8")
        one_line(text).encode("utf-8")
