"""Text from papers and file names made safe to show on a terminal, a web page or in Markdown.

A paper (or its file name) is data someone else wrote. Shown raw, it can recolour, retitle or
clear the user's terminal (escape sequences, 8-bit C1 controls such as U+009B, the one-byte
CSI), reorder what the user reads (bidi overrides such as U+202E), or forge lines of our own
output (a file name holding a newline followed by ``error: ...``). Everything from a paper or a
file name passes through one of the two functions below before it is displayed:

* :func:`clean_for_display` for prose (answers, quotes, titles): controls and escape sequences
  removed, line breaks kept (or made spaces for one-line cells);
* :func:`one_line` for names (paths, doc ids, ids inside error lines): always one line, and
  every hidden character shown *visibly* escaped (``\\n``, ``\\x1b``, ``\\u202e``) so the user
  sees what the name really holds.

Ordinary text is untouched: accents, Chinese, right-to-left scripts and emoji (zero-width
joiners included) pass through. :func:`is_display_safe` tells whether a text needs either
(for tests of rendered output). Pure functions, standard library only; escaping for a given
output format (Rich markup, HTML, Markdown) is the caller's job, after these.
"""

from __future__ import annotations

import re

__all__ = ["clean_for_display", "is_display_safe", "one_line"]

# Bidirectional formatting characters: embeddings/overrides (U+202A-U+202E), isolates
# (U+2066-U+2069) and the invisible marks (LRM, RLM, ALM). They reorder the text around them,
# so a quote or a file name can read differently from what it is ("Trojan Source").
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Line breaks a terminal or a reader may honour: CR (returns the cursor, overwriting a line),
# vertical tab, form feed (PDF page breaks), line and paragraph separators. (NEL, U+0085, is
# dropped with the other C1 controls: in papers it is mostly a mis-decoded "…".)
_BREAKS = "\r\x0b\x0c\u2028\u2029"
# Terminal sequences: CSI (7-bit ESC [ or 8-bit U+009B), and terminated strings (OSC window
# titles and hyperlinks, DCS, SOS, PM, APC; 7- or 8-bit introducers, ended by BEL or ST).
# An unterminated string is not swallowed: only its introducer goes, its payload stays text.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"  # the other escape sequences (charset switches, resets, ...)
)
# Left after the sequences: every C0 control but tab and newline, DEL, C1, bidi, breaks.
_HIDDEN = re.compile(f"[\x00-\x08\x0e-\x1f\x7f-\x9f{_BIDI}{_BREAKS}]|[\ud800-\udfff]")
_UNSAFE_LINES = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")
_UNSAFE_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def clean_for_display(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` without terminal escape sequences, control characters or bidi overrides.

    Line breaks of any kind become ``\\n`` (``\\r\\n`` one), or, with ``keep_newlines=False``,
    a space each, as do tabs then, for a title or a table cell. Lone surrogates (undecodable
    bytes in a file name) become U+FFFD, so printing never raises ``UnicodeEncodeError``.
    """
    text = _SEQUENCE.sub("", text).replace("\r\n", "\n")

    def replace(match: re.Match[str]) -> str:
        char = match.group()
        if char in _BREAKS:
            return "\n"
        return "\ufffd" if "\ud800" <= char <= "\udfff" else ""

    text = _HIDDEN.sub(replace, text)
    if not keep_newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def one_line(name: str) -> str:
    """``name`` (a path, a doc id, a message quoting one) on one line with nothing hidden.

    Newlines, tabs, controls, escape characters and bidi marks are shown as Python writes
    them in a string (``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``); a byte a file name could not
    decode as (a surrogate escape) is shown as that byte, ``\\xff``. Backslashes are left as
    they are, so a Windows path reads normally.
    """

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        code = ord(char)
        if char in _NAMED:
            return _NAMED[char]
        if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's surrogateescape for the byte code - 0xDC00
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSAFE_ONE_LINE.sub(escape, name)


def is_display_safe(text: str, *, multiline: bool = True) -> bool:
    """Whether ``text`` holds nothing :func:`clean_for_display` (or, with ``multiline=False``,
    :func:`one_line`) would remove or escape: for tests and assertions on rendered output.
    Tabs and ``\\n`` are allowed when ``multiline``; ``\\r`` never."""
    pattern = _UNSAFE_LINES if multiline else _UNSAFE_ONE_LINE
    return pattern.search(text) is None
