"""Find a paper's front matter in its own cleaned text: title, authors, affiliation, keywords,
abstract and funding, each as exact offsets.

Questions about who wrote a paper, where the authors work or who funded it are answered from
these fields, so they must come from the document itself (an uploaded paper gets them too),
not from a catalog. The rules follow how papers lay out a title block: the paragraphs before
the first section are title, author line(s) and affiliation line(s); "Keywords:" and
"Abstract" open their own paragraphs or sections; funding is a short paragraph saying who
supported the work, usually under "Acknowledgements" or in the title block.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

KINDS = ("title", "authors", "affiliation", "venue", "keywords", "abstract", "funding")

_INSTITUTION = re.compile(
    r"\b(?:Universit(?:y|ies|é|ät)|Institutes?|College|School|Academy|Company|Co\.|Ltd\b|Inc\.|"
    r"Corporation|Department|Dept\.|Laborator(?:y|ies)|Cent(?:er|re)|Ministry|Hospital|Faculty|"
    r"Bureau|Foundation|Polytechnic|Council|Agency)",
)
_VENUE = re.compile(r"(?i)\b(?:journal of|proceedings of|vol\.\s*\d|volume \d|issn|doi:|doi\.org)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FUNDING = re.compile(
    r"(?i)\b(?:supported by|funded by|funding from|financed by|sponsored by|grant (?:no|number)|"
    r"project no|fund project|foundation item)\b"
)
# A paragraph that is a funding statement, not prose that mentions funds.
_FUNDING_OPENS = re.compile(
    r"(?i)^\s*(?:(?:this|the|our) (?:research|work|study|paper|article|project)\b.{0,40}?"
    r"\b(?:supported|funded|financed|sponsored)|(?:supported|funded|sponsored) by|"
    r"fund(?:ing|ed)?(?: project| item| information)?\s*:|foundation items?\s*:|grants?\s*:)"
)
_LABELLED = re.compile(r"(?i)^\s*#*\s*(key ?words?|abstract|acknowledge?ments?|funding)\s*[:.]?\s*")
_TITLE_BLOCK_PARAGRAPH = 400  # chars: a longer paragraph ends the title block
_MARKS = re.compile(r"\^\{[^}]*\}|\^[\w*,]+|[¹²³⁴⁵⁶⁷⁸⁹⁰*⊠✉†‡§]|\[\s*⊠\s*\]")


@dataclass(frozen=True)
class Field:
    kind: str  # one of KINDS
    start: int  # char offsets in the cleaned document
    end: int
    text: str


def detect(text: str, sections: Sequence[Sequence[object]]) -> list[Field]:
    """The front-matter fields of a cleaned document (``sections``: [title, start, end])."""
    spans = [(int(str(s[1])), int(str(s[2])), str(s[0])) for s in sections]
    body_start = min((a for a, _, _ in spans), default=len(text))
    fields = _title_block(text, 0, body_start)
    for a, b in _paragraphs(text, 0, len(text)):
        para = text[a:b]
        label = _LABELLED.match(para)
        name = label.group(1).lower() if label else ""
        if label and name.startswith(("key", "abstract")):
            kind = "keywords" if name.startswith("key") else "abstract"
            inline = a + label.end() < b
            fields.append(
                _field(kind, text, a + label.end(), b) if inline else _next_paragraph(kind, text, b)
            )
        elif len(para) < 600 and _is_funding(para, name, spans, a):
            fields.append(_field("funding", text, a, b))
    return [f for f in fields if f is not None and f.text]


def _is_funding(para: str, label: str, spans: list[tuple[int, int, str]], pos: int) -> bool:
    """A funding statement: it opens like one, or names a grant under Acknowledgements."""
    if _FUNDING_OPENS.match(para):
        return True
    under = label.startswith(("ack", "fund")) or _in_acknowledgements(spans, pos)
    return under and bool(_FUNDING.search(para))


def _in_acknowledgements(spans: list[tuple[int, int, str]], pos: int) -> bool:
    return any(
        a <= pos < b and re.match(r"(?i)\W*(acknowledge?ments?|funding)", title)
        for a, b, title in spans
    )


def authors_of(fields: Sequence[Field]) -> list[str]:
    """Author names from the authors field ("Ann Lee^a, Bo Chen^{b*}" -> two names)."""
    line = next((f.text for f in fields if f.kind == "authors"), "")
    line = _MARKS.sub(" ", line)
    parts = re.split(r"\s*(?:,|;|\band\b|&)\s*|\s{2,}", line)
    names = [re.sub(r"\s+", " ", p).strip(" .") for p in parts]
    if len(names) == 1 and len(names[0].split()) == 4:  # "Ann Lee Bo Chen"
        w = names[0].split()
        names = [" ".join(w[:2]), " ".join(w[2:])]
    return [n for n in names if n and len(n.split()) <= 4]


def _title_block(text: str, start: int, end: int) -> list[Field | None]:
    """Title, then author and affiliation lines, from the paragraphs before the first section."""
    out: list[Field | None] = []
    paragraphs = _paragraphs(text, start, end)[:6]
    for i, (a, b) in enumerate(paragraphs):
        para = text[a:b]
        if _LABELLED.match(para) or len(para) > _TITLE_BLOCK_PARAGRAPH:
            break
        if _VENUE.search(para) and i > 0:
            out.append(_field("venue", text, a, b))
        elif _INSTITUTION.search(para) or _EMAIL.search(para):
            out.append(_field("affiliation", text, a, b))
        elif i == 0:
            if not _looks_like_title(para):
                break  # prose in first place (a note, an abstract-only file): no title block
            out.append(_field("title", text, a, b))
        elif _looks_like_names(para):
            out.append(_field("authors", text, a, b))
    return out


_SENTENCE_BREAK = re.compile(r"[a-z0-9][.!?][\"')\]]?\s+\S")  # "...Nuremberg. More"


def _looks_like_title(para: str) -> bool:
    """A title is one short line of words, not sentences: prose in first place is body text."""
    return len(para.split()) <= 40 and not _SENTENCE_BREAK.search(para.strip())


def _looks_like_names(para: str) -> bool:
    words = _MARKS.sub(" ", para).replace(",", " ").split()
    if not 1 <= len(words) <= 24 or para.rstrip().endswith("."):
        return False
    capitalised = sum(w[0].isupper() for w in words if w.lower() not in {"and", "&"})
    return capitalised >= 0.8 * len(words)


def _next_paragraph(kind: str, text: str, after: int) -> Field | None:
    paragraphs = _paragraphs(text, after, min(len(text), after + 5000))
    if not paragraphs:
        return None
    a, b = paragraphs[0]
    return _field(kind, text, a, b)


def _field(kind: str, text: str, a: int, b: int) -> Field | None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return Field(kind, a, b, text[a:b]) if b > a else None


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    cursor = start
    for m in re.finditer(r"\n\s*\n", text[start:end]):
        if text[cursor : start + m.start()].strip():
            out.append((cursor, start + m.start()))
        cursor = start + m.end()
    if text[cursor:end].strip():
        out.append((cursor, end))
    return out


class _Paper(Protocol):
    @property
    def clean_text(self) -> str: ...

    @property
    def sections(self) -> Sequence[Sequence[object]]: ...


class FrontMatterCache:
    """Each paper's front-matter fields, detected on first use and kept for the snapshot's life
    (one cache shared by retrieval and answering, so a paper is scanned once)."""

    def __init__(self, documents: Mapping[str, _Paper]) -> None:
        self._documents = documents
        self._found: dict[str, list[Field]] = {}
        self._authors: dict[str, list[str]] = {}

    def fields(self, doc_id: str) -> list[Field]:
        found = self._found.get(doc_id)
        if found is None:
            doc = self._documents.get(doc_id)
            if doc is None:
                found = []
            else:
                stored = getattr(doc, "front_offsets", None)  # found at ingest (stored index)
                text = doc.clean_text
                found = (
                    [Field(k, a, b, text[a:b]) for k, a, b in stored]
                    if stored is not None
                    else detect(text, doc.sections)
                )
            self._found[doc_id] = found
        return found

    def authors(self, doc_id: str) -> list[str]:
        """The paper's author names; from its stored title block when it has one, so listing
        every paper's authors reads no paper's full text (a stored index reads texts lazily)."""
        names = self._authors.get(doc_id)
        if names is None:
            head = getattr(self._documents.get(doc_id), "title_block", None)
            if doc_id in self._found or not isinstance(head, str):
                names = authors_of(self.fields(doc_id))
            else:
                fields = [f for f in _title_block(head, 0, len(head)) if f is not None and f.text]
                names = authors_of(fields)
            self._authors[doc_id] = names
        return names


def title_block(text: str, sections: Sequence[Sequence[object]]) -> str:
    """The shortest prefix of ``text`` from which ``_title_block`` reads the same fields: up to
    its sixth paragraph before the first section, or into the first one too long to be part of
    it (kept long enough to stay too long), so it can be stored apart from the text."""
    body_start = min((int(str(s[1])) for s in sections), default=len(text))
    paragraphs = _paragraphs(text, 0, body_start)[:6]
    for a, b in paragraphs:
        if b - a > _TITLE_BLOCK_PARAGRAPH:
            return text[: min(b, a + 4 * _TITLE_BLOCK_PARAGRAPH)]
    return text[: paragraphs[-1][1]] if paragraphs else ""


@functools.lru_cache(maxsize=1)
def rules_fingerprint() -> str:
    """Hash of these rules' source: offsets stored by an index are used only while it matches
    (a build shipped without sources: the package version)."""
    try:
        source = Path(__file__).read_bytes()
    except OSError:
        from .._version import __version__

        source = __version__.encode()
    return hashlib.sha256(source).hexdigest()[:16]


def stored_offsets(fields: Sequence[tuple[str, int, int]]) -> dict[str, Any]:
    """What an index stores per paper (``read_offsets`` reads it back) so serving need not scan
    its text for front matter (every paragraph, ~2 ms a paper: most of a new question's cost at
    10k papers)."""
    return {"rules": rules_fingerprint(), "fields": [list(f) for f in fields]}


def offsets(text: str, sections: Sequence[Sequence[object]]) -> list[tuple[str, int, int]]:
    """The (kind, start, end) of each front-matter field of a cleaned document."""
    return [(f.kind, f.start, f.end) for f in detect(text, sections)]


def read_offsets(stored: object) -> list[tuple[str, int, int]] | None:
    """Stored offsets still valid for these rules, else None (detect again when used)."""
    if not isinstance(stored, dict) or stored.get("rules") != rules_fingerprint():
        return None
    try:
        return [(str(k), int(a), int(b)) for k, a, b in stored["fields"]]
    except (KeyError, TypeError, ValueError):
        return None
