"""List questions ("What are the four challenges in section 4?", "What measures does the
paper propose?"): the headings of the sub-sections the question names, else the enumeration
("First, ... Second, ...", "(1) ... (2) ...", bullets) in the best passage's paragraph, each
item cited."""

from __future__ import annotations

import re

from ...corpus.lexicon import Lexicon
from ...retrieval.query import STOPWORDS, QuestionInfo, terms
from ...sentences import sentence_spans
from ...store import DocRecord
from ...types import Answer, Citation
from ..features import Candidate
from .common import Reading, clause_of, compose

_ENUMERATOR = re.compile(
    r"^(?:(?:First|Second|Third|Fourth|Fifth|Sixth|Finally|Lastly)(?:ly)?\b[,:]?|\(\d{1,2}\)|"
    r"\d{1,2}\)|[•\-\*]\s)"
)
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s*\S")
_PAREN = re.compile(r"^\((\d+)\)\s*\S")
_PAPERS = 2  # best-ranked papers whose sections are searched for the list
_DEPTH = 3  # levels under an item that names the list
_MIN_ITEMS = 2

Section = tuple[str, int, int]  # title, start, end


def from_sections(r: Reading) -> Answer | None:
    """Answer "what are the N challenges" with the headings of the matching sub-sections."""
    info = r.info
    asked_section = re.search(r"\bsection\s+(\d+(?:\.\d+)*)", info.text, re.I)
    best: tuple[float, DocRecord, list[Section]] | None = None
    doc_ids = list(dict.fromkeys(c.passage.doc_id for c in r.candidates))
    for rank, doc_id in enumerate(doc_ids[:_PAPERS]):
        doc = r.ctx.document(doc_id)
        sections = _sections(doc)
        for idx, (parent, _, _) in enumerate(sections):
            items = children(sections, idx)
            if len(items) < _MIN_ITEMS or (
                info.expected_items and len(items) != info.expected_items
            ):
                continue
            if asked_section:
                label = heading_label(parent)
                if label is None or label[1] != asked_section.group(1):
                    continue
            elif not names_the_list(info, parent, r.lexicon):
                continue  # the question must ask for this kind of list
            score = 2 * _overlap(info, parent, r.lexicon) + max(
                _overlap(info, t, r.lexicon) for t, _, _ in items
            )
            score -= rank  # prefer the paper retrieval ranked first
            if best is None or score > best[0]:
                best = (score, doc, items)
    if best is None:
        return None
    _, doc, items = best
    sections = _sections(doc)
    for _ in range(_DEPTH):  # the items may sit one level under an item that names the list
        deeper = next(
            (
                kids
                for item in items
                if names_the_list(info, item[0], r.lexicon)
                and len(kids := children(sections, sections.index(item))) >= _MIN_ITEMS
            ),
            None,
        )
        if deeper is None:
            break
        items = deeper
    return _compose_list(r, doc, items)


def from_enumeration(r: Reading) -> Answer | None:
    """Answer a list question with an enumeration in the best passage's paragraph
    ("First, ... Second, ...", "(1) ... (2) ...", bullets), each item cited."""
    best = max(r.candidates, key=lambda c: c.probability)
    doc = r.ctx.document(best.passage.doc_id)
    text = doc.clean_text
    para_start = text.rfind("\n\n", 0, best.start) + 1
    para_end = text.find("\n\n", best.end)
    para_end = len(text) if para_end < 0 else para_end
    items: list[tuple[int, int]] = []
    for a, b in sentence_spans(text, para_start, para_end):
        if _ENUMERATOR.match(text[a:b]):
            items.append((a, b))
    if len(items) < _MIN_ITEMS:
        return None
    focus = set(r.info.focus)
    chosen: list[Candidate] = []
    for a, b in items[: r.settings.max_list_items]:
        chunk = r.ctx.chunk_at(doc.doc_id, a)
        if chunk is None:
            continue
        passage = next((p for p in r.passages if p.chunk_id == chunk.chunk_id), None)
        item = Candidate(0, passage or r.ctx.passage_for(chunk), a, b, text[a:b])
        chosen.append(clause_of(item, None, focus, r.settings.max_clause_words))
    return compose(r, chosen)


def _compose_list(r: Reading, doc: DocRecord, items: list[Section]) -> Answer:
    citations: list[Citation] = []
    lines: list[str] = []
    markers: dict[str, int] = {}
    for title, start, _ in items:
        chunk = r.ctx.chunk_at(doc.doc_id, start)
        if chunk is None:
            continue
        passage = next((p for p in r.passages if p.chunk_id == chunk.chunk_id), None)
        passage = passage or r.ctx.passage_for(chunk)
        marker = markers.setdefault(chunk.chunk_id, len(markers) + 1)
        citations.append(r.ctx.citation(marker, passage, start, start + len(title)))
        lines.append(f"- {title} [{marker}]")
    parent = _parent(doc, items)[0]
    head = f"“{doc.title}” lists these under “{parent}”:" if parent else f"“{doc.title}” lists:"
    return r.answer(head + "\n" + "\n".join(lines), citations)


def names_the_list(info: QuestionInfo, parent: str, lexicon: Lexicon) -> bool:
    """Does the question ask for the kind of list this heading introduces ("challenges")?

    A plural noun of the question (or one the lexicon groups with it) must name the heading.
    """
    if info.wants_number and not info.expected_items:
        return False  # "how many measures" wants a figure, not a list
    words = set(re.findall(r"[a-z]+", info.text.lower()))
    if words & {"introduction", "conclusion", "conclusions", "abstract"}:
        return False  # asks about one section's prose, not a run of sub-sections
    heading = set(terms(parent))
    plurals = {w for w in words if len(w) > 3 and w.endswith("s") and w not in STOPWORDS}
    wanted = {t for w in plurals for t in terms(" ".join(lexicon.list_group(w)))}
    return bool(heading & wanted)


def _overlap(info: QuestionInfo, text: str, lexicon: Lexicon) -> int:
    """Distinctive question terms found in ``text`` (list nouns matched with their synonyms)."""
    generic = set(terms(" ".join(lexicon.generic)))
    asked = set(info.terms) - generic
    for group in lexicon.list_nouns:
        stems = set(terms(" ".join(group)))
        if asked & stems:
            asked |= stems
    return len(asked & set(terms(text)))


def heading_label(title: str) -> tuple[str, str] | None:
    """("num", "4.1") or ("paren", "3") for a numbered heading, else None."""
    if m := _NUMBERED.match(title):
        return "num", m.group(1)
    if m := _PAREN.match(title):
        return "paren", m.group(1)
    return None


def children(sections: list[Section], idx: int) -> list[Section]:
    """The sub-sections directly under ``sections[idx]`` ("4.1", "4.2" under "4"; "(1)",
    "(2)" under a numbered heading with no numbered children)."""
    label = heading_label(sections[idx][0])
    if label is None:
        return []
    kind, num = label
    out: list[Section] = []
    numbered_children = False
    for title, s, e in sections[idx + 1 :]:
        lab = heading_label(title)
        if lab is None:
            continue
        if kind == "num" and lab[0] == "num":
            if not lab[1].startswith(num + "."):
                break
            if lab[1].count(".") == num.count(".") + 1:
                numbered_children = True
                out.append((title, s, e))
        elif kind == "num" and lab[0] == "paren" and not numbered_children:
            out.append((title, s, e))
        elif kind == "paren":
            break
    return out


def _sections(doc: DocRecord) -> list[Section]:
    return [(str(t), int(a), int(b)) for t, a, b in doc.sections]


def _parent_index(sections: list[Section], idx: int) -> int | None:
    label = heading_label(sections[idx][0])
    if label is None:
        return None
    kind, num = label
    for j in range(idx - 1, -1, -1):
        lab = heading_label(sections[j][0])
        if lab is None:
            continue
        if kind == "paren" and lab[0] == "num":
            return j
        if kind == "num" and lab[0] == "num" and "." in num and lab[1] == num.rsplit(".", 1)[0]:
            return j
    return None


def _parent(doc: DocRecord, items: list[Section]) -> Section:
    sections = _sections(doc)
    first = items[0]
    idx = next((i for i, s in enumerate(sections) if s == first), None)
    parent = _parent_index(sections, idx) if idx is not None else None
    return sections[parent] if parent is not None else ("", 0, 0)
