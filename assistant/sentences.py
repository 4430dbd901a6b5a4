"""Sentence spans in cleaned text.

A small rule-based splitter rather than a library: nltk's punkt needs a data download (fails
offline) and pysbd is unmaintained since 2021 and slow; these rules cover academic prose
(abbreviations, initials, citation markers like ``[3]``, decimals) and return exact offsets.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "cf",
    "al",
    "fig",
    "figs",
    "no",
    "nos",
    "vol",
    "pp",
    "co",
    "ltd",
    "inc",
    "dr",
    "mr",
    "mrs",
    "ms",
    "prof",
    "st",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "approx",
    "dept",
    "univ",
    "eq",
    "sec",
}
# A candidate boundary: terminal punctuation, optional closing quotes/brackets and a
# citation marker, then whitespace and something that can start a sentence.
_BOUNDARY = re.compile(
    r"""[.!?。！？][”"')\]]*(?:\s?\[\d+(?:[,–-]\s?\d+)*\])?(?=\s+[A-Z0-9“"'(\[]|\s*\n|\s*$)"""
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of ``text[start:end]``, whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    for para_start, para_end in _paragraphs(text, start, end):
        cursor = para_start
        for m in _BOUNDARY.finditer(text, para_start, para_end):
            if _is_abbreviation(text, m.start()):
                continue
            spans.append((cursor, m.end()))
            cursor = m.end()
        spans.append((cursor, para_end))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[1] > s[0]]


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    cursor = start
    for m in re.finditer(r"\n\s*\n", text[start:end]):
        out.append((cursor, start + m.start()))
        cursor = start + m.end()
    out.append((cursor, end))
    return out


def _is_abbreviation(text: str, dot: int) -> bool:
    if text[dot] != ".":
        return False
    word = re.search(r"([A-Za-z][A-Za-z.]*)$", text[max(0, dot - 12) : dot])
    if not word:
        return False
    token = word.group(1).lower().rstrip(".")
    return token in _ABBREVIATIONS or (len(token) == 1 and word.group(1)[0].isupper())


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b
