"""Decide whether the lines after a "References" heading really are a reference list.

A line that reads "References" also turns up in tables of contents, in one-word-per-line PDF
extractions and above ordinary prose; cutting everything after it silently dropped whole papers.
So a heading only counts when what follows is *shaped* like citations: the lines are grouped
into entries and each entry is scored on several independent cues (a "[12]"/"12." marker, an
author list, a year, a DOI or URL, volume/issue/pages, "et al."). The list ends where a run of
entries that are not citation-shaped begins (an appendix), so that text stays in the paper.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

_BULLET = r"(?:[-•*–]\s*)?"  # Markdown conversions put "- " before entries
_NUMBER = r"(?:\[\d{1,4}\]|\(\d{1,4}\)|\d{1,3}\.\s)"  # [12]  (12)  12.
_MARKER = re.compile(rf"^{_BULLET}{_NUMBER}\s*\S")
_STARTS_ENTRY = re.compile(rf"^(?:[-•*–]\s+|{_BULLET}{_NUMBER})")
_AUTHOR = re.compile(
    rf"^{_BULLET}(?:{_NUMBER}\s*)?"
    r"(?:[A-Z][\w'’-]+,\s+(?:[A-Z]\.|[A-Z]{1,3}\b)"  # Smith, J.  /  Smith, JA
    r"|[A-Z][a-z'’-]+(?:\s[A-Z]){1,3},"  # Li H J,
    r"|[A-Z][a-z]+\s[A-Z][a-z]+\s?[,&]\s*[A-Z][a-z]+\s[A-Z][a-z]+)"  # Li Wenhui, Yi Luyang
)
_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d\d[a-z]?(?!\d)")
_LINK = re.compile(r"\bdoi\b|\b10\.\d{4,9}/|https?://|\bwww\.|\bisbn\b|\barxiv\b", re.I)
_VENUE = re.compile(
    r"\bvol\.|\bno\.\s*\d|\bpp?\.\s*\d|\[[A-Z](?:/[A-Z]{1,2})?\]|\d+\s*\(\d+\)\s*[:,]\s*\d+"
    r"|\d+\s*,\s*\d+\s*[-–]\s*\d+|\bIn:\s|\b[Pp]roceedings\b|\b[Ee]ds?\.",
)
_ET_AL = re.compile(r"\bet al\b")
_TERMINAL = re.compile(r"[.!?]$")

MIN_SHARE = 0.6  # share of the list's lines that must sit in citation-shaped entries
_MAX_ENTRY_CHARS = 1000  # a longer "entry" is a paragraph, not a citation
_STOP_CHARS = 300  # this much non-citation text in a row ends the list ...
_STOP_ENTRIES = 3  # ... or this many non-citation entries in a row


class LineLike(Protocol):
    text: str
    kind: str  # "blank" | "furniture" | "heading" | "references" | "body"


@dataclass(frozen=True)
class ReferenceBlock:
    """Lines ``start`` (the heading) to ``end`` (exclusive) are the reference list."""

    start: int
    end: int
    share: float  # share of its non-blank lines that are in citation-shaped entries


def find_reference_block(lines: Sequence[LineLike], candidates: list[int]) -> ReferenceBlock | None:
    """The last candidate heading followed by a citation-shaped list near the end, if any."""
    spaced = _double_spaced(lines)
    upto: list[int] = []  # text characters before each line, filled when first needed
    for n in range(len(candidates) - 1, -1, -1):
        head = candidates[n]
        limit = candidates[n + 1] if n + 1 < len(candidates) else len(lines)
        block = _block_after(lines, head, limit, spaced)
        if block is None:
            continue
        upto = upto or _text_before(lines)
        if upto[-1] - upto[block.end] <= upto[head]:
            return block  # near the end: no more text after the list than before its heading
    return None


def is_citation(entry: str) -> bool:
    """Two or more independent citation cues, at least one that prose rarely has."""
    if len(entry) > _MAX_ENTRY_CHARS:
        return False
    strong = sum(bool(p.search(entry)) for p in (_MARKER, _AUTHOR, _LINK, _VENUE))
    weak = bool(_YEAR.search(entry)) + bool(_ET_AL.search(entry))
    return strong >= 1 and strong + weak >= 2


def _double_spaced(lines: Sequence[LineLike]) -> bool:
    """Most lines are followed by a blank one, so a blank line does not end a paragraph."""
    solid = [i for i in range(len(lines) - 1) if lines[i].kind != "blank"]
    spaced = sum(1 for i in solid if lines[i + 1].kind == "blank")
    return bool(solid) and spaced / len(solid) >= 0.7


def _entries(
    lines: Sequence[LineLike], start: int, limit: int, spaced: bool
) -> Iterator[tuple[int, int]]:
    """(first, last+1) line spans of the entries in ``lines[start:limit]``, blanks skipped.

    An entry starts at a marker or bullet, a heading, a blank line (unless the whole text is
    double-spaced) or an author list after a line that ends a sentence.
    """
    first: int | None = None
    last = start
    prev_text = ""
    gap = False
    for i in range(start, limit):
        ln = lines[i]
        if ln.kind in ("blank", "furniture"):
            gap = gap or ln.kind == "blank"
            continue
        new = (
            first is None
            or ln.kind == "heading"
            or _STARTS_ENTRY.match(ln.text) is not None
            or (gap and not spaced)
            or (_TERMINAL.search(prev_text) is not None and (gap or _AUTHOR.match(ln.text)))
        )
        if new:
            if first is not None:
                yield first, last
            first = i
        last = i + 1
        prev_text = ln.text
        gap = False
    if first is not None:
        yield first, last


def _block_after(
    lines: Sequence[LineLike], head: int, limit: int, spaced: bool
) -> ReferenceBlock | None:
    """The citation-shaped list right after ``head``, ended by a run of non-citation text.

    A short odd entry inside the list (a wrapped fragment, a website) stays in it and counts
    against its share; a long run of them is an appendix and ends the list.
    """
    end = head + 1
    cited = total = entries = 0
    run_chars = run_entries = run_lines = 0
    for a, b in _entries(lines, head + 1, limit, spaced):
        texts = [lines[i].text for i in range(a, b) if lines[i].kind not in ("blank", "furniture")]
        if is_citation(" ".join(texts)):
            cited += len(texts)
            total += len(texts) + run_lines
            entries += 1
            run_chars = run_entries = run_lines = 0
            end = b
            continue
        run_chars += sum(len(t) - t.count(" ") for t in texts)
        run_entries += 1
        run_lines += len(texts)
        if run_chars >= _STOP_CHARS or run_entries >= _STOP_ENTRIES:
            break
    else:
        if run_lines:  # a short non-citation tail at the very end stays with the list
            total += run_lines
            end = limit
    if entries == 0 or cited < MIN_SHARE * total:
        return None
    if entries < 2 and _has_text(lines, end, len(lines)):
        return None  # one citation-like paragraph above more text is not a list
    return ReferenceBlock(head, end, cited / total)


def _text_before(lines: Sequence[LineLike]) -> list[int]:
    """Characters of text (not furniture) before each line index, and in all at the end."""
    out = [0]
    for ln in lines:
        out.append(out[-1] + (0 if ln.kind == "furniture" else len(ln.text)))
    return out


def _has_text(lines: Sequence[LineLike], start: int, end: int) -> bool:
    return any(ln.kind not in ("blank", "furniture") for ln in lines[start:end])
