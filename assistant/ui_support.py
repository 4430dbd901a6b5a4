"""Pure helpers behind ``streamlit_app.py``: source cards, highlights, export, upload checks.

Nothing here imports Streamlit, so every formatting rule is unit-tested without a browser; the
app itself only lays these pieces out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .corpus.front_matter import FrontMatterCache
from .corpus.pages import page_label
from .papers import PaperInfo
from .safe_text import clean_for_display
from .types import Answer, Citation, Passage

if TYPE_CHECKING:
    from .store import DocRecord

UPLOAD_TYPES = ("pdf", "txt", "md")
# Paper text is shown as text: every character Markdown, HTML or Streamlit would read as markup
# becomes a numeric character reference, which renders as the character itself. So
# `![x](http://host/a.png)` in a paper stays those characters (no remote image loads), `<b>`
# stays `<b>`, and `$5 ... $3` is not LaTeX. `:` `@` and `www.` are escaped too, which stops
# GFM's bare-URL and e-mail autolinks. SEE: https://spec.commonmark.org/0.31.2/#entity-and-numeric-character-references
_MARKUP = frozenset("\\`*_{}[]()#+-!|<>~$:@=&")
_WWW = re.compile(r"(?i)\b(www)\.")
_LIST_ITEM = re.compile(r"^(\s{0,3}(?:[-*+]|\d{1,3}[.)]) )")  # answer lists stay lists
# A bracketed reference number as papers write them: "[5]", "[12, 13]", "[3–5]". The app's own
# markers are the single "[n]" after a sentence; the same shape inside quoted paper text (or
# any other shape) is the paper's reference to its own bibliography.
_REF_MARK = re.compile(r"\[\d{1,3}(?:\s*[,;\u2013\u2014-]\s*\d{1,3})*\]")
_APP_MARKER = re.compile(r"\[(\d{1,3})\]")
PAPER_REF_CLASS = "bri-paper-ref"
_PAPER_REF = f'<span class="{PAPER_REF_CLASS}" title="the paper\'s own reference">{{}}</span>'
# A line that is one item of a list: a bullet, "(2)", "2)", "a.", "iv)" or "2.1.3" first.
_ITEM = re.compile(
    r"^\s*(?:[-\u2022*\u25aa\u25cf\u25e6\u00b7]|\(?(?:\d{1,3}|[a-z]|[ivx]{1,4})[.)]"
    r"|\d{1,3}(?:\.\d{1,3})+\.?)\s+\S"
)
_NEIGHBOUR_ITEMS = 2  # items shown on each side of a cited one
# Ingest stages reported by Assistant.add_documents, with the share of the bar each one fills.
_STAGE_SPAN = {"reading": (0.0, 0.3), "embedding": (0.3, 0.7), "sentences": (0.7, 1.0)}


@dataclass
class ChatEntry:
    """One exchange as the UI keeps it: the question and its answer, or why there is none."""

    question: str
    answer: Answer | None = None
    error: str | None = None
    settings_label: str = ""


@dataclass
class SourceCard:
    """One cited passage with every quote and marker pointing into it."""

    passage: Passage
    markers: list[int] = field(default_factory=list)
    quotes: list[tuple[str, int | None]] = field(default_factory=list)  # (quote, offset in text)
    verified: bool = True
    pages: tuple[int, int] | None = None  # first and last PDF page of the quotes


@dataclass(frozen=True)
class UploadProblem:
    """Why an uploaded file is not indexed; ``warning`` for duplicates, ``error`` otherwise."""

    level: Literal["error", "warning"]
    message: str


# -- answers and source cards ------------------------------------------------------------


def escape_markdown(text: str) -> str:
    """``text`` for ``st.markdown`` (with or without HTML allowed), shown exactly as written
    (less control characters and bidi overrides, which would hide or reorder it)."""
    out = "".join(f"&#{ord(ch)};" if ch in _MARKUP else ch for ch in clean_for_display(text))
    return _WWW.sub(r"\1&#46;", out)


def answer_markdown(text: str) -> str:
    """Answer text safe for ``st.markdown``: list items stay lists, everything else is text."""
    lines = []
    for line in text.split("\n"):
        item = _LIST_ITEM.match(line)
        head = item.group(1) if item else ""
        lines.append(head + escape_markdown(line[len(head) :]))
    return "\n".join(lines)


def answer_html(text: str, citations: Sequence[Citation] = ()) -> str:
    """Answer text for ``st.markdown(unsafe_allow_html=True)``: markdown lists kept, all other
    markup in the text shown as text, and each ``[n]`` marker wrapped so it can be styled.

    With the answer's ``citations``, a reference mark inside a quoted sentence ("... growth
    [5].") or one no citation has is the paper's own, and is styled apart from the markers.
    """
    quoted = _quote_spans(text, [c.quote for c in citations])
    markers = {c.marker for c in citations}

    def mark(match: re.Match[str]) -> str:
        ref = match.group()
        number = _APP_MARKER.fullmatch(ref)
        inside = any(a <= match.start() and match.end() <= b for a, b in quoted)
        if number and not inside and (not citations or int(number.group(1)) in markers):
            return f'<span class="bri-cite">[{number.group(1)}]</span>'
        return _paper_ref(match)

    lines, pos = [], 0
    for line in text.split("\n"):
        item = _LIST_ITEM.match(line)
        head = item.group(1) if item else ""
        lines.append(head + _escape_marks(text, pos + len(head), pos + len(line), mark))
        pos += len(line) + 1
    return "\n".join(lines)


def _escape_marks(text: str, start: int, end: int, mark: Callable[[re.Match[str]], str]) -> str:
    """``text[start:end]`` escaped, each reference mark in it rendered by ``mark``."""
    out, pos = [], start
    for m in _REF_MARK.finditer(text, start, end):
        out += [escape_markdown(text[pos : m.start()]), mark(m)]
        pos = m.end()
    out.append(escape_markdown(text[pos:end]))
    return "".join(out)


def _quote_spans(text: str, quotes: Iterable[str]) -> list[tuple[int, int]]:
    """Where each quote appears in ``text`` (every occurrence, whitespace-blind)."""
    spans = []
    for quote in quotes:
        words = quote.split()
        if words:
            pattern = r"\s+".join(re.escape(w) for w in words)
            spans += [(m.start(), m.end()) for m in re.finditer(pattern, text)]
    return spans


def source_cards(citations: Sequence[Citation]) -> list[SourceCard]:
    """Group citations by passage, in marker order, so a passage cited twice shows once."""
    cards: dict[str, SourceCard] = {}
    for cit in sorted(citations, key=lambda c: c.marker):
        card = cards.setdefault(cit.passage.chunk_id, SourceCard(passage=cit.passage))
        card.markers.append(cit.marker)
        card.quotes.append((cit.quote, cit.start - cit.passage.start))
        card.verified = card.verified and cit.verified
        if cit.page is not None:
            low, high = card.pages or (cit.page, cit.page)
            card.pages = (min(low, cit.page), max(high, cit.page_end or cit.page))
    return list(cards.values())


def highlight_html(text: str, quotes: Iterable[tuple[str, int | None]]) -> str:
    """``text`` HTML-escaped, each quoted span wrapped in ``<mark>``, newlines as ``<br>``."""
    spans = _merge([s for q, off in quotes if (s := _find_span(text, q, off)) is not None])
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(_escape(text[pos:start]))
        out.append(f"<mark>{_escape(text[start:end])}</mark>")
        pos = end
    out.append(_escape(text[pos:]))
    return "".join(out)


def _find_span(text: str, quote: str, offset: int | None) -> tuple[int, int] | None:
    """Where ``quote`` sits in ``text``: at its offset, else anywhere, else whitespace-blind."""
    quote = quote.strip()
    if not quote:
        return None
    if offset is not None and 0 <= offset and text[offset : offset + len(quote)] == quote:
        return offset, offset + len(quote)
    found = text.find(quote)
    if found >= 0:
        return found, found + len(quote)
    words = quote.split()
    match = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (match.start(), match.end()) if match else None


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _escape(text: str) -> str:
    """Paper text for a card: shown as text, its own reference marks styled as such."""
    return _escape_marks(text, 0, len(text), _paper_ref).replace("\n", "<br>")


def _paper_ref(match: re.Match[str]) -> str:
    return _PAPER_REF.format(escape_markdown(match.group()))


@dataclass(frozen=True)
class CardText:
    """What a source card shows of its passage: the text and each quote's offset in it."""

    text: str
    quotes: list[tuple[str, int | None]]
    trimmed: bool = False  # only the cited list items, not the passage around them


def card_text(text: str, quotes: Sequence[tuple[str, int | None]]) -> CardText:
    """The passage text a card shows. When every quote is a list item ("(2) Deficiencies in
    foreign trade", "- Chengdu"), only the list around it: the cited items and up to two
    neighbouring items each side, not the paragraph under the item (which may be about
    something else entirely when the PDF's text came out of order)."""
    lines = _lines(text)
    spans = [_find_span(text, q, off) for q, off in quotes]
    cited: set[int] = set()
    for span in spans:
        at = _line_of(lines, span) if span else None
        if at is None or not _ITEM.match(text[lines[at][0] : lines[at][1]]):
            return CardText(text, list(quotes))
        cited.add(at)
    if not cited:
        return CardText(text, list(quotes))
    items = [i for i, (a, b) in enumerate(lines) if _ITEM.match(text[a:b])]
    shown: set[int] = set()
    for at in cited:
        run = _item_run(items, at)
        k = run.index(at)
        shown.update(run[max(0, k - _NEIGHBOUR_ITEMS) : k + _NEIGHBOUR_ITEMS + 1])
    first, last = lines[min(shown)][0], lines[max(shown)][1]
    if (first, last) == (lines[0][0], lines[-1][1]):
        return CardText(text, list(quotes))
    moved = [
        (q, span[0] - first if span else None) for (q, _), span in zip(quotes, spans, strict=True)
    ]
    return CardText(text[first:last], moved, trimmed=True)


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line."""
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]*\S[^\n]*", text)]


def _line_of(lines: list[tuple[int, int]], span: tuple[int, int]) -> int | None:
    """The line holding all of ``span``; None when it runs over a line break."""
    for i, (a, b) in enumerate(lines):
        if a <= span[0] and span[1] <= b:
            return i
    return None


def _item_run(items: list[int], at: int) -> list[int]:
    """The consecutive item lines (blank lines between them allowed) around line ``at``."""
    k = items.index(at)
    lo, hi = k, k
    while lo > 0 and items[lo - 1] == items[lo] - 1:
        lo -= 1
    while hi + 1 < len(items) and items[hi + 1] == items[hi] + 1:
        hi += 1
    return items[lo : hi + 1]


Papers = Mapping[str, PaperInfo]  # doc id -> paper, as ``Assistant.info().papers`` lists them


def doc_label(doc_id: str, docs: Papers) -> str:
    """A paper's title for display, falling back to its file name."""
    doc = docs.get(doc_id)
    return doc.title if doc and doc.title else doc_id


def file_label(doc_id: str, docs: Papers) -> str:
    """The name a reader knows a paper by: its file name (ids of papers added by path or upload
    carry a hash of the path, to tell two ``notes.txt`` apart)."""
    doc = docs.get(doc_id)
    if doc is None or getattr(doc, "source", "corpus") == "corpus":
        return doc_id
    return Path(doc.path).name


def authors_line(doc_id: str, docs: Papers, records: Mapping[str, DocRecord] | None = None) -> str:
    """The paper's authors: the catalog's, else the names on the paper's own author line
    (front matter, found in ``records``, the index's papers: an upload has no catalog entry)."""
    doc = docs.get(doc_id)
    names = list(doc.authors) if doc is not None else []
    if not names and records is not None and doc_id in records:
        names = FrontMatterCache({doc_id: records[doc_id]}).authors(doc_id)
    if not names:
        return "Authors not stated in the text"
    return ", ".join(names)


def pages_line(card: SourceCard) -> str:
    """ "p. 4" or "pp. 4–5": the PDF pages of the card's quotes (or, with none, of its
    passage); "" for a text paper."""
    pages = card.pages or card.passage.pages
    return page_label(*pages) if pages else ""


def versions_line(passage: Passage, docs: Papers) -> str:
    """ "Also in version …" for a passage found in other versions of the same work."""
    if not passage.versions:
        return ""
    names = [f"“{doc_label(v, docs)}” ({v})" for v in passage.versions]
    return "Also in version " + "; ".join(names)


# -- export ------------------------------------------------------------------------------


def export_markdown(entries: Sequence[ChatEntry], now: datetime | None = None) -> str:
    """The conversation as Markdown: each answer with its citations' quotes and sources.

    Paper text (and whatever a question pasted) is data: HTML in it is escaped, so a viewer
    shows ``<script>`` or ``<img onerror=...>`` as text and runs nothing, a Markdown image
    loads nothing, and control and bidi characters are dropped.
    """
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    lines = ["# BRI Papers Assistant: chat export", "", f"_Exported {stamp}_", ""]
    for n, entry in enumerate(entries, 1):
        lines += [f"## {n}. {_md(entry.question, one_line=True)}", ""]
        if entry.error:
            lines += [f"**Error:** {_md(entry.error, one_line=True)}", ""]
            continue
        if entry.answer is None:
            continue
        lines += [_md(entry.answer.text), ""]
        if entry.answer.notice:
            lines += [f"> _Note: {_md(entry.answer.notice, one_line=True)}_", ""]
        lines += _export_sources(entry.answer)
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str, one_line: bool = False) -> str:
    """Text for the Markdown export: readable as text, inert as HTML. ``one_line`` for a
    heading, a list item or a quote line, which a line break would end."""
    text = clean_for_display(text, keep_newlines=not one_line)
    if one_line:
        text = " ".join(text.split())
    text = html.escape(text, quote=False)
    return text.replace("![", "!\\[")  # an image would load from the paper's URL


def _export_sources(answer: Answer) -> list[str]:
    if answer.abstained:
        if not answer.passages:
            return []
        lines = ["**Closest passages (not an answer):**", ""]
        for p in answer.passages[:3]:
            pages = f", {page_label(*p.pages)}" if p.pages else ""
            where = f"{p.title or p.doc_id}, {p.section or 'no section'}{pages} ({p.doc_id})"
            lines.append(f"- {_md(where, one_line=True)}")
        return [*lines, ""]
    if not answer.citations:
        return []
    lines = ["**Sources:**", ""]
    for cit in sorted(answer.citations, key=lambda c: c.marker):
        p = cit.passage
        pages = f", {page_label(cit.page, cit.page_end)}" if cit.page is not None else ""
        where = f"{p.title or p.doc_id}, {p.section or 'no section'}{pages} ({cit.doc_id})"
        lines.append(f"- [{cit.marker}] {_md(where, one_line=True)}")
        lines.append(f"  > {_md(cit.quote, one_line=True)}")
    return [*lines, ""]


# -- uploads and index status ------------------------------------------------------------


def safe_filename(name: str) -> str:
    """The bare file name of an upload: no folders, no leading dots."""
    return Path(name.replace("\\", "/")).name.lstrip(".").strip()


def check_upload(
    name: str,
    size: int,
    max_mb: float,
    uploads_dir: Path,
    indexed: Collection[str] = (),
) -> UploadProblem | None:
    """Refuse an upload before it is saved: wrong type, empty, too large, or a taken name."""
    clean = safe_filename(name)
    suffix = Path(clean).suffix.lower().lstrip(".")
    if not clean or suffix not in UPLOAD_TYPES:
        kinds = ", ".join(f".{t}" for t in UPLOAD_TYPES)
        return UploadProblem("error", f"{name}: unsupported type, upload one of {kinds}")
    if size <= 0:
        return UploadProblem("error", f"{clean}: empty file, nothing to index")
    if size > max_mb * 1024 * 1024:
        return UploadProblem(
            "error",
            f"{clean}: {size / 1024 / 1024:.1f} MB is over the {max_mb:g} MB limit "
            "(setting corpus.max_file_mb)",
        )
    if (uploads_dir / clean).exists() or clean in indexed:
        return UploadProblem(
            "warning", f"{clean}: a paper with this name is already indexed; rename it to add it"
        )
    return None


def progress_value(stage: str, done: int, total: int) -> tuple[float, str]:
    """Map an ingest progress callback onto one 0..1 bar and a label."""
    low, high = _STAGE_SPAN.get(stage, (0.0, 1.0))
    share = done / total if total > 0 else 1.0
    value = min(1.0, max(0.0, low + (high - low) * share))
    return value, f"{stage.capitalize()} {done}/{total}"


def format_built_at(value: str | None) -> str:
    """``2026-11-23T09:34:31Z`` as ``2026-11-23 09:34 UTC``; unknown stays readable."""
    if not value:
        return "unknown"
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return when.strftime("%Y-%m-%d %H:%M UTC")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def short_title(title: str, limit: int = 70) -> str:
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"
