"""Pure helpers behind ``streamlit_app.py``: source cards, highlights, export, upload checks.

Nothing here imports Streamlit, so every formatting rule is unit-tested without a browser; the
app itself only lays these pieces out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from .papers import PaperInfo
from .types import Answer, Citation, Passage

UPLOAD_TYPES = ("pdf", "txt", "md")
# Paper text is shown as text: every character Markdown, HTML or Streamlit would read as markup
# becomes a numeric character reference, which renders as the character itself. So
# `![x](http://host/a.png)` in a paper stays those characters (no remote image loads), `<b>`
# stays `<b>`, and `$5 ... $3` is not LaTeX. `:` `@` and `www.` are escaped too, which stops
# GFM's bare-URL and e-mail autolinks. SEE: https://spec.commonmark.org/0.31.2/#entity-and-numeric-character-references
_MARKUP = frozenset("\\`*_{}[]()#+-!|<>~$:@=&")
_WWW = re.compile(r"(?i)\b(www)\.")
_LIST_ITEM = re.compile(r"^(\s{0,3}(?:[-*+]|\d{1,3}[.)]) )")  # answer lists stay lists
_MARKER = re.compile(r"&#91;(\d{1,3})&#93;")
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


@dataclass(frozen=True)
class UploadProblem:
    """Why an uploaded file is not indexed; ``warning`` for duplicates, ``error`` otherwise."""

    level: Literal["error", "warning"]
    message: str


# -- answers and source cards ------------------------------------------------------------


def escape_markdown(text: str) -> str:
    """``text`` for ``st.markdown`` (with or without HTML allowed), shown exactly as written."""
    out = "".join(f"&#{ord(ch)};" if ch in _MARKUP else ch for ch in text)
    return _WWW.sub(r"\1&#46;", out)


def answer_markdown(text: str) -> str:
    """Answer text safe for ``st.markdown``: list items stay lists, everything else is text."""
    lines = []
    for line in text.split("\n"):
        item = _LIST_ITEM.match(line)
        head = item.group(1) if item else ""
        lines.append(head + escape_markdown(line[len(head) :]))
    return "\n".join(lines)


def answer_html(text: str) -> str:
    """Answer text for ``st.markdown(unsafe_allow_html=True)``: markdown lists kept, all other
    markup in the text shown as text, and each ``[n]`` wrapped so it can be styled."""
    return _MARKER.sub(r'<span class="bri-cite">[\1]</span>', answer_markdown(text))


def source_cards(citations: Sequence[Citation]) -> list[SourceCard]:
    """Group citations by passage, in marker order, so a passage cited twice shows once."""
    cards: dict[str, SourceCard] = {}
    for cit in sorted(citations, key=lambda c: c.marker):
        card = cards.setdefault(cit.passage.chunk_id, SourceCard(passage=cit.passage))
        card.markers.append(cit.marker)
        card.quotes.append((cit.quote, cit.start - cit.passage.start))
        card.verified = card.verified and cit.verified
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
    return escape_markdown(text).replace("\n", "<br>")


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


def authors_line(doc_id: str, docs: Papers) -> str:
    doc = docs.get(doc_id)
    if doc is None or not doc.authors:
        return "Authors not stated in the text"
    return ", ".join(doc.authors)


def versions_line(passage: Passage, docs: Papers) -> str:
    """ "Also in version …" for a passage found in other versions of the same work."""
    if not passage.versions:
        return ""
    names = [f"“{doc_label(v, docs)}” ({v})" for v in passage.versions]
    return "Also in version " + "; ".join(names)


# -- export ------------------------------------------------------------------------------


def export_markdown(entries: Sequence[ChatEntry], now: datetime | None = None) -> str:
    """The conversation as Markdown: each answer with its citations' quotes and sources."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    lines = ["# BRI Papers Assistant: chat export", "", f"_Exported {stamp}_", ""]
    for n, entry in enumerate(entries, 1):
        lines += [f"## {n}. {entry.question}", ""]
        if entry.error:
            lines += [f"**Error:** {entry.error}", ""]
            continue
        if entry.answer is None:
            continue
        lines += [entry.answer.text, ""]
        if entry.answer.notice:
            lines += [f"> _Note: {entry.answer.notice}_", ""]
        lines += _export_sources(entry.answer)
    return "\n".join(lines).rstrip() + "\n"


def _export_sources(answer: Answer) -> list[str]:
    if answer.abstained:
        if not answer.passages:
            return []
        lines = ["**Closest passages (not an answer):**", ""]
        for p in answer.passages[:3]:
            lines.append(f"- {p.title or p.doc_id}, {p.section or 'no section'} ({p.doc_id})")
        return [*lines, ""]
    if not answer.citations:
        return []
    lines = ["**Sources:**", ""]
    for cit in sorted(answer.citations, key=lambda c: c.marker):
        p = cit.passage
        where = f"{p.title or p.doc_id}, {p.section or 'no section'} ({cit.doc_id})"
        lines.append(f"- [{cit.marker}] {where}")
        lines.append(f"  > {' '.join(cit.quote.split())}")
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
