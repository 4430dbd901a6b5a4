"""Turn raw extracted text into clean, answerable prose with sections and offset maps.

Rules (each tested on real excerpts): hard-wrapped lines are rejoined into paragraphs;
hyphenation at a line break is undone unless the hyphen is part of a real compound
("high-\\nquality" stays "high-quality", "con-\\nstruction" becomes "construction"); page
furniture (page numbers, running headers) is dropped; section headings ("2.1 ...", "(3) ...",
"# ...", "Abstract") become section metadata; the reference list is cut from the answerable
text (kept aside as ``references`` so it is never cited as evidence) -- but only a heading near
the end followed by citation-shaped lines counts (see ``reference_list``), and text after the
list (an appendix) is kept.

Nothing is dropped silently: every removed non-whitespace character is tallied by reason in
``CleanDocument.removed`` (whitespace normalisation is not removal), and ``cleaning_warning``
says when a paper kept too little of its text to be trusted.

Every character of the clean text maps back to the raw file (``to_raw``) and every raw offset
to the clean text (``to_clean``), so a quote can be located in either.
"""

from __future__ import annotations

import bisect
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .reference_list import find_reference_block
from .vocabulary import is_known_word

_NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})+\.?\s*|\d{1,2}\.?\s+|\(\d{1,2}\)\s*)[A-Z“\"'(]")
_MARKDOWN = re.compile(r"^#{1,6}\s+\S")
_NAMED = re.compile(
    r"^([Aa]bstract|ABSTRACT|[Kk]eywords?|KEYWORDS?|Introduction|Conclusions?|"
    r"Acknowledge?ments?|Background|Methods?|Results|Discussion)\s*(?::|$)"
)
_REFERENCES = re.compile(
    r"^#{0,6}\s*(?:(?:\d{1,2}|[IVX]{1,5})\.?\s+)?"
    r"(references|bibliography|works cited|literature cited)\s*:?\s*$",
    re.IGNORECASE,
)
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[-–]?\s*\d{1,4}\s*[-–]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.I)
_TERMINAL = re.compile(r"[.!?:;”\"')\]]\s*(?:\[\d+(?:[,–-]\d+)*\])?$")
_RUN = re.compile(r"\S+(?: \S+)*")
_CONNECTORS = {"and", "of", "the", "in", "for", "to", "with", "on", "a", "an", "under", "from"}

# Why non-whitespace characters of the raw text are not in the clean text.
REFERENCES = "references"  # the reference list (heading included)
FURNITURE = "page furniture"  # page numbers, running headers and footers
HYPHENS = "hyphenation joins"  # the hyphen of a word split at a line end
SOFT_HYPHENS = "soft hyphens"  # U+00AD, invisible in the source
MIN_KEPT_SHARE = 0.5  # the bundled papers keep 90-100 %; half gone means a broken file or cut


@dataclass(frozen=True)
class Section:
    title: str
    start: int
    end: int


class OffsetMap:
    """Maps offsets between clean and raw text from the verbatim runs they share."""

    def __init__(self, segments: list[tuple[int, int, int]] | list[list[int]]) -> None:
        self.segments = [(int(c), int(r), int(n)) for c, r, n in segments]
        self._clean_starts = [s[0] for s in self.segments]
        self._raw_starts = [s[1] for s in self.segments]

    def to_raw(self, clean_pos: int) -> int:
        """Raw offset of a clean offset (a joining space maps to the end of the run before)."""
        i = bisect.bisect_right(self._clean_starts, clean_pos) - 1
        if i < 0:
            return self.segments[0][1] if self.segments else 0
        c, r, n = self.segments[i]
        return r + min(clean_pos - c, n)

    def to_clean(self, raw_pos: int) -> int:
        """Clean offset of a raw offset (dropped raw text maps to the next kept character)."""
        i = bisect.bisect_right(self._raw_starts, raw_pos) - 1
        if i < 0:
            return 0
        c, r, n = self.segments[i]
        return c + min(raw_pos - r, n)


@dataclass
class CleanDocument:
    """Cleaned text plus sections and the clean<->raw offset map."""

    text: str
    sections: list[Section]
    segments: list[tuple[int, int, int]]  # (clean_start, raw_start, length), verbatim runs
    references: str = ""
    references_raw_start: int | None = None
    raw_chars: int = 0  # non-whitespace characters of the raw text
    raw_words: int = 0  # whitespace-separated words of the raw text
    removed: dict[str, int] = field(default_factory=dict)  # reason -> non-whitespace chars

    @property
    def kept_chars(self) -> int:
        """Non-whitespace characters of the raw text that are in ``text``."""
        return self.raw_chars - sum(self.removed.values())

    @property
    def kept_share(self) -> float:
        """Share of the raw non-whitespace characters kept (1.0 for an empty file)."""
        return self.kept_chars / self.raw_chars if self.raw_chars else 1.0

    @property
    def kept_words(self) -> int:
        return len(self.text.split())

    @property
    def offsets(self) -> OffsetMap:
        return OffsetMap(self.segments)

    def to_raw(self, clean_pos: int) -> int:
        return self.offsets.to_raw(clean_pos)

    def to_clean(self, raw_pos: int) -> int:
        return self.offsets.to_clean(raw_pos)

    def section_at(self, clean_pos: int) -> str:
        for section in reversed(self.sections):
            if section.start <= clean_pos:
                return section.title
        return ""


@dataclass
class _Line:
    text: str  # stripped
    start: int  # raw offset of text[0]
    kind: str = "body"  # body | blank | furniture | heading | references


class _Builder:
    """Appends verbatim raw runs and inserted separators, recording the offset map."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.segments: list[tuple[int, int, int]] = []

    def verbatim(self, text: str, raw_start: int) -> None:
        for m in _RUN.finditer(text):
            if self.segments and self.parts and not self.parts[-1].endswith((" ", "\n")):
                if m.start() > 0:
                    self.insert(" ")
            self.segments.append((self.length, raw_start + m.start(), len(m.group())))
            self.parts.append(m.group())
            self.length += len(m.group())

    def insert(self, sep: str) -> None:
        self.parts.append(sep)
        self.length += len(sep)

    def ends_with(self, suffix: str) -> bool:
        return bool(self.parts) and self.parts[-1].endswith(suffix)

    def trim_trailing(self, sep: str) -> None:
        if self.parts and self.parts[-1] == sep:
            self.parts.pop()
            self.length -= len(sep)


def clean_text(raw: str, known_word: Callable[[str], bool] = is_known_word) -> CleanDocument:
    """Clean ``raw`` (the loader's text, unchanged) into a :class:`CleanDocument`."""
    lines, candidates = _classify(_split_lines(raw))
    wrapped = _is_wrapped(lines)
    width = _median_width(lines)
    references, refs_start = _mark_references(lines, candidates)
    vocab = _document_words(raw)
    builder = _Builder()
    sections: list[Section] = []
    refs_chars = furniture_chars = hyphens = 0
    prev: _Line | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        kind = line.kind
        if kind == "blank":
            i += 1
            continue
        if kind == "references":
            refs_chars += _solid(line.text)
            prev = None  # text after the list (an appendix) starts a new paragraph
            i += 1
            continue
        if kind == "furniture":
            furniture_chars += _solid(line.text)
            i += 1
            continue
        if kind == "heading":
            i, prev = _emit_heading(lines, i, wrapped, builder, sections)
            continue
        hyphens += _join(builder, prev, line, wrapped, width, vocab, known_word)
        prev = line
        i += 1
    text = "".join(builder.parts).rstrip()
    closed = _close_sections(sections, len(text))
    words = raw.split()
    return CleanDocument(
        text=text,
        sections=closed,
        segments=builder.segments,
        references="\n".join(references),
        references_raw_start=refs_start,
        raw_chars=sum(map(len, words)),
        raw_words=len(words),
        removed=_tally(
            {
                REFERENCES: refs_chars,
                FURNITURE: furniture_chars,
                HYPHENS: hyphens,
                SOFT_HYPHENS: raw.count("\u00ad"),
            }
        ),
    )


def cleaning_warning(doc: CleanDocument, min_share: float = MIN_KEPT_SHARE) -> str | None:
    """One line when cleaning kept less than ``min_share`` of the text, naming what removed it."""
    if doc.kept_share >= min_share:
        return None
    causes = [
        f"{_percent(n / doc.raw_chars)} % was removed as {reason}"
        for reason, n in sorted(doc.removed.items(), key=lambda kv: -kv[1])
        if n / doc.raw_chars >= 0.01
    ]
    return (
        f"kept {_percent(doc.kept_share)} % of the text: {doc.kept_words} of {doc.raw_words} "
        f"words; {', '.join(causes) or 'nothing was removed by a known rule'} — check the file"
    )


def _tally(counts: dict[str, int]) -> dict[str, int]:
    """The reasons that removed something, largest first."""
    return dict(sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: -kv[1]))


def _percent(share: float) -> int:
    return int(round(100 * share))


def _solid(text: str) -> int:
    """Non-whitespace characters of ``text`` (what the removal tallies count)."""
    return sum(map(len, text.split()))


def _mark_references(lines: list[_Line], candidates: list[int]) -> tuple[list[str], int | None]:
    """Mark the real reference list (if any) and turn other "References" lines into headings.

    Returns the list's lines and the raw offset of its heading.
    """
    block = find_reference_block(lines, candidates) if candidates else None
    for i in candidates:
        lines[i].kind = "heading"
    if block is None:
        return [], None
    kept: list[str] = []
    for ln in lines[block.start : block.end]:
        if ln.kind in ("body", "heading") and ln is not lines[block.start]:
            kept.append(ln.text)
        if ln.kind != "furniture":
            ln.kind = "references"
    lines[block.start].kind = "references"
    return kept, lines[block.start].start


def _split_lines(raw: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    for piece in re.split(r"(\r\n|\r|\n|\f)", raw):
        if piece in ("\r\n", "\r", "\n", "\f"):
            pos += len(piece)
            continue
        stripped = piece.strip()
        lead = len(piece) - len(piece.lstrip())
        out.append(_Line(stripped.replace("\u00ad", ""), pos + lead))
        pos += len(piece)
    return out


def _classify(lines: list[_Line]) -> tuple[list[_Line], list[int]]:
    """Give each line its kind; returns the lines and the "References" heading candidates."""
    counts = Counter(ln.text for ln in lines)
    furniture = not _one_word_per_line(counts)
    candidates: list[int] = []
    for i, ln in enumerate(lines):
        t = ln.text
        if not t:
            ln.kind = "blank"
        elif _REFERENCES.match(t):
            ln.kind = "references"  # a candidate: ``_mark_references`` decides
            candidates.append(i)
        elif furniture and (
            _PAGE_NUMBER.match(t) or (counts[t] >= 3 and len(t) < 60 and not _TERMINAL.search(t))
        ):
            ln.kind = "furniture"
        elif _is_heading(t):
            ln.kind = "heading"
    return lines, candidates


def _one_word_per_line(counts: Counter[str]) -> bool:
    """An extraction that put each word on its own line: every common word "repeats" and
    every number looks like a page number, so page-furniture rules would eat the text."""
    solid = sum(counts.values()) - counts[""]
    if solid < 20:
        return False
    single = sum(n for t, n in counts.items() if t and " " not in t and "\t" not in t)
    return single / solid >= 0.5


def _is_heading(text: str) -> bool:
    if _NAMED.match(text):
        return True
    if len(text) > 160:
        return False
    if _MARKDOWN.match(text):
        return True
    if _NUMBERED.match(text):
        return not re.search(r"[.;,]\s*$", text) or bool(re.match(r"^\d+\.\s+\w+$", text))
    return False


def _is_wrapped(lines: list[_Line]) -> bool:
    body = [ln for ln in lines if ln.kind == "body"]
    if not body:
        return False
    open_ended = sum(1 for ln in body if not _TERMINAL.search(ln.text))
    return open_ended / len(body) > 0.4


def _median_width(lines: list[_Line]) -> float:
    widths = [len(ln.text) for ln in lines if ln.kind == "body"]
    return statistics.median(widths) if widths else 80.0


def _document_words(raw: str) -> Counter[str]:
    return Counter(w.lower() for w in re.findall(r"[A-Za-z]+(?:-[A-Za-z]+)*", raw))


def _emit_heading(
    lines: list[_Line], i: int, wrapped: bool, builder: _Builder, sections: list[Section]
) -> tuple[int, _Line | None]:
    """Write a heading (possibly wrapped over several lines) as its own paragraph.

    Returns the next line index and, for "Abstract: text...", the line body text continues.
    """
    parts = [lines[i]]
    j = i + 1
    while wrapped and j < len(lines) and len(parts) < 3:
        nxt = lines[j]
        if nxt.kind == "blank":
            j += 1
            continue
        if nxt.kind != "body" or not _continues_heading(parts[-1].text, nxt.text):
            break
        parts.append(nxt)
        j += 1
    while j < len(lines) and lines[j].kind == "blank":
        j += 1
    _new_paragraph(builder)
    start = builder.length
    named = _NAMED.match(parts[0].text)
    if named and len(parts) == 1 and len(parts[0].text) > named.end():
        # "Abstract: Sichuan is ..." -- a label followed by its body on the same line.
        label = named.group(1).capitalize()
        builder.verbatim(parts[0].text[: named.end()], parts[0].start)
        rest = parts[0].text[named.end() :]
        lead = len(rest) - len(rest.lstrip())
        builder.insert(" ")
        builder.verbatim(rest.strip(), parts[0].start + named.end() + lead)
        sections.append(Section(label, start, -1))
        return i + 1, parts[0]
    for n, part in enumerate(parts):
        if n:
            builder.insert(" ")
        builder.verbatim(part.text, part.start)
    title = " ".join(p.text for p in parts)
    sections.append(Section(re.sub(r"^#+\s*", "", title), start, -1))
    builder.insert("\n\n")
    return j, None


def _continues_heading(heading: str, line: str) -> bool:
    if _TERMINAL.search(line) or re.search(r"[,;]$", line) or len(line) > 50:
        return False
    words = line.split()
    if len(words) <= 2 and line[:1].islower():
        return True  # "(1) ... strengthening" / "differentiation"
    long_words = [w for w in words if len(w) > 3 and w.lower() not in _CONNECTORS]
    capitalised = sum(1 for w in long_words if w[:1].isupper())
    ends_open = heading.split()[-1].lower() in _CONNECTORS
    return ends_open or (bool(long_words) and capitalised / len(long_words) >= 0.6)


def _new_paragraph(builder: _Builder) -> None:
    if builder.length == 0:
        return
    builder.trim_trailing(" ")
    if not builder.ends_with("\n\n"):
        builder.insert("\n\n")


def _join(
    builder: _Builder,
    prev: _Line | None,
    line: _Line,
    wrapped: bool,
    width: float,
    vocab: Counter[str],
    known_word: Callable[[str], bool],
) -> int:
    """Append ``line`` after ``prev``: same paragraph, new paragraph, or de-hyphenated.

    Returns how many characters were dropped (1 for a removed line-end hyphen).
    """
    dropped = 0
    if prev is None:
        _new_paragraph(builder)
        builder.verbatim(line.text, line.start)
        return dropped
    if not wrapped:
        _new_paragraph(builder)
        builder.verbatim(line.text, line.start)
        return dropped
    hyphen = re.search(r"([A-Za-z]+)-$", prev.text)
    if hyphen and line.text[:1].islower():
        first = hyphen.group(1)
        second = re.match(r"[A-Za-z]+", line.text)
        if second and not _keep_hyphen(first, second.group(), vocab, known_word):
            # drop the hyphen: the clean text skips it, the offset map records the gap
            builder.parts[-1] = builder.parts[-1][:-1]
            builder.length -= 1
            c, r, n = builder.segments[-1]
            builder.segments[-1] = (c, r, n - 1)
            dropped = 1
        builder.verbatim(line.text, line.start)
        return dropped
    ends_paragraph = _TERMINAL.search(prev.text) and len(prev.text) < 0.8 * width
    if ends_paragraph:
        _new_paragraph(builder)
    elif not builder.ends_with(" "):
        builder.insert(" ")
    builder.verbatim(line.text, line.start)
    return dropped


def _keep_hyphen(
    first: str, second: str, vocab: Counter[str], known_word: Callable[[str], bool]
) -> bool:
    """Is ``first-second`` a real compound (keep) or a word split at a line end (join)?"""
    hyphenated = f"{first}-{second}".lower()
    joined = f"{first}{second}".lower()
    if vocab[hyphenated] > 0 and vocab[joined] == 0:
        return True
    if vocab[joined] > 0 and vocab[hyphenated] == 0:
        return False
    if known_word(joined):
        return False
    return known_word(first.lower()) and known_word(second.lower())


def _close_sections(sections: list[Section], text_len: int) -> list[Section]:
    closed = []
    for k, s in enumerate(sections):
        end = sections[k + 1].start if k + 1 < len(sections) else text_len
        closed.append(Section(s.title, s.start, end))
    return closed
