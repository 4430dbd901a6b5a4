"""Which PDF page a stretch of a paper's cleaned text sits on, for "p. 4" beside a quote.

The loader joins a PDF's pages with form feeds and keeps where each begins
(``DocRecord.page_starts``, raw offsets). A cleaned-text offset maps to the raw file through
the paper's verbatim runs (``OffsetMap``), and a raw offset to its page by bisection. Text and
Markdown papers have no pages: every answer here is None for them, and nothing is read.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Protocol

from .cleaning import OffsetMap

_KEPT_MAPS = 256  # papers whose offset maps are kept (a serving process quotes a handful)


class _Paper(Protocol):
    doc_id: str
    page_starts: list[int]

    @property
    def segments(self) -> list[list[int]]: ...


def page_at(page_starts: Sequence[int], raw_pos: int) -> int | None:
    """The 1-based page holding raw offset ``raw_pos``; None without pages."""
    if not page_starts:
        return None
    return max(1, bisect.bisect_right(page_starts, raw_pos))


def page_span(page_starts: Sequence[int], raw_start: int, raw_end: int) -> tuple[int, int] | None:
    """The first and last page of the raw text ``[raw_start, raw_end)``; None without pages."""
    first = page_at(page_starts, raw_start)
    if first is None:
        return None
    last = page_at(page_starts, max(raw_start, raw_end - 1)) or first
    return first, max(first, last)


def page_label(first: int | None, last: int | None = None) -> str:
    """ "p. 4", "pp. 4–5", or "" when the page is unknown (a text paper)."""
    if first is None:
        return ""
    if last is None or last <= first:
        return f"p. {first}"
    return f"pp. {first}\u2013{last}"


class PageFinder:
    """Pages of cleaned-text spans, one offset map kept per paper (a PDF's segments are read
    once, when it is first quoted; a paper without pages costs nothing)."""

    def __init__(self) -> None:
        self._maps: dict[str, OffsetMap] = {}

    def raw(self, doc: _Paper, clean_pos: int) -> int:
        """The raw-file offset of a cleaned-text offset of ``doc``."""
        offsets = self._maps.get(doc.doc_id)
        if offsets is None:
            if len(self._maps) >= _KEPT_MAPS:
                self._maps.clear()  # bounded, and safe under concurrent questions
            offsets = self._maps[doc.doc_id] = OffsetMap(doc.segments)
        return offsets.to_raw(clean_pos)

    def span(self, doc: _Paper | None, start: int, end: int) -> tuple[int, int] | None:
        """First and last page of ``doc``'s cleaned text ``[start, end)``; None without pages."""
        if doc is None or not doc.page_starts or not doc.segments:
            return None
        last = self.raw(doc, max(start, end - 1))  # the last character's own run, not the next
        return page_span(doc.page_starts, self.raw(doc, start), last + 1)
