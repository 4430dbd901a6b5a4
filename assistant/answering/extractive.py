"""The offline default answerer: quote the sentences that answer the question, and cite them.

Each sentence of the retrieved passages is scored against the question (embedding cosine plus
idf-weighted term coverage, a nudge for figures on "how many" questions); a short,
non-redundant set is chosen and printed in reading order with ``[n]`` markers. For list
questions whose answer is a run of sub-sections ("4.1 ...", "4.2 ..."), the sub-section
headings are the items. Every sentence is a verbatim quote, so every citation is checkably true.
When the best evidence is weak the answer abstains and shows the closest passages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from ..corpus.lexicon import EMPTY, Lexicon
from ..embeddings import Embedder
from ..retrieval.query import STOPWORDS, QuestionInfo, analyse, question_parts, terms
from ..sentences import sentence_spans
from ..settings import AnswerSettings
from ..store import DocRecord
from ..types import Answer, Citation, Passage
from .base import AnswerContext, abstention
from .evidence import TypedSpan, clause_window, tied_to_focus, typed_spans

_ENUMERATOR = re.compile(
    r"^(?:(?:First|Second|Third|Fourth|Fifth|Sixth|Finally|Lastly)(?:ly)?\b[,:]?|\(\d{1,2}\)|"
    r"\d{1,2}\)|[•\-\*]\s)"
)
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s*\S")
_PAREN = re.compile(r"^\((\d+)\)\s*\S")
_DATE = re.compile(
    r"\b(?:(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\s+(?:\d{1,2},\s+)?\d{4}|(?:in|since|by|from)\s+(?:19|20)\d{2})\b"
)


@dataclass
class _Candidate:
    rank: int  # of its passage
    passage: Passage
    start: int
    end: int
    text: str
    score: float = 0.0
    cosine: float = 0.0
    coverage: float = 0.0
    vector: np.ndarray | None = None  # kept from scoring for the redundancy check


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        settings: AnswerSettings | None = None,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.embedder = embedder
        self.settings = settings or AnswerSettings()
        self.lexicon = lexicon or EMPTY

    def stream(
        self, question: str, passages: list[Passage], ctx: AnswerContext
    ) -> Iterator[str | Answer]:
        answer = self.answer(question, passages, ctx)
        for piece in re.split(r"(?<=\s)", answer.text):
            if piece:
                yield piece
        yield answer

    def answer(self, question: str, passages: list[Passage], ctx: AnswerContext) -> Answer:
        info = analyse(question, self.lexicon)
        if info.front_matter:
            fields = [p for p in passages if p.field == info.front_matter]
            if fields:
                return _confident(self._quote_fields(info, fields, passages, ctx), 1.0)
            if info.front_matter in ("affiliation", "authors", "venue"):
                why = f"The paper does not state its {_FIELD_NAMES[info.front_matter]}."
                return abstention(question, passages, self.name, why)
        body = [p for p in passages if p.field is None]
        candidates = self._candidates(body, ctx)
        if not candidates:
            return abstention(question, passages, self.name)
        self._score(info, candidates, ctx)
        best = max(candidates, key=lambda c: c.score)
        # confidence is on abstain_threshold's scale (the eval sweeps the threshold with it)
        confidence = best.score
        if ctx.paper_names().named(question).docs:
            confidence *= 2  # it names one of the papers: on topic, however it is phrased
        if confidence < self.settings.abstain_threshold:
            return _confident(abstention(question, passages, self.name), confidence)
        missing = _unmatched_specifics(question, passages, ctx)
        if missing:
            why = f"They never mention {', '.join(missing)}."
            return _confident(abstention(question, passages, self.name, why), confidence)
        if info.wants_list:
            listed = self._list_from_sections(info, candidates, ctx, passages)
            listed = listed or self._list_from_enumeration(info, candidates, ctx, passages)
            if listed is not None:
                return _confident(listed, confidence)
        if info.kind == "comparison":
            return _confident(self._compare(info, candidates, ctx, passages), confidence)
        if info.compound:
            return _confident(self._compound(info, candidates, ctx, passages), confidence)
        if info.factual:
            typed = self._typed(info, candidates, ctx)
            if not typed:
                why = _coverage_note(info, candidates)
                return _confident(abstention(question, passages, self.name, why), confidence)
            return _confident(self._compose(question, typed, passages, ctx), confidence)
        chosen = self._select(info, candidates)
        return _confident(self._compose(question, chosen, passages, ctx), confidence)

    def _typed(
        self,
        info: QuestionInfo,
        candidates: list[_Candidate],
        ctx: AnswerContext,
        whole: QuestionInfo | None = None,
    ) -> list[_Candidate]:
        """The best sentences holding a span of the asked kind tied to the focus, each cut to
        the clause around that span; empty when no candidate does (the answer declines).
        ``whole``: the full question when ``info`` is one part of it (its focus counts too)."""
        s = self.settings
        if whole is not None:
            info = replace(info, focus=info.focus or whole.focus)
        ranked = sorted(candidates, key=lambda c: -c.score)
        floor = ranked[0].score - s.typed_margin
        expansions = self.lexicon.word_expansions
        found: list[tuple[float, _Candidate]] = []
        for c in ranked[: s.typed_candidates]:
            if c.score < floor:
                break
            context = _neighbourhood(ctx, c)
            if not tied_to_focus(info, c.text, context, s.focus_min_share, expansions):
                continue  # checked first: it is cheap, the tagger is not
            spans = typed_spans(c.text, info.kind)
            if not spans:
                continue
            anchor, distance = _best_span(info, c.text, spans)
            # a figure next to the words asked about answers better than one far from them
            rank = c.score - s.typed_proximity * min(distance, 300) / 100
            found.append((rank, _clause_of(c, anchor, set(info.focus), s.max_clause_words)))
        found.sort(key=lambda x: -x[0])
        return [c for _, c in found[: s.max_factual_sentences]]

    def _compound(
        self,
        info: QuestionInfo,
        candidates: list[_Candidate],
        ctx: AnswerContext,
        passages: list[Passage],
    ) -> Answer:
        """A question asking several things: quote what answers each part, and say which
        parts of a factual kind the passages leave unanswered."""
        chosen = self._select(info, candidates)
        unanswered: list[str] = []
        for part in question_parts(info.text):
            pinfo = analyse(part, self.lexicon)
            if not pinfo.factual:
                continue
            found = self._typed(pinfo, candidates, ctx, whole=info)[:1]
            if not found:
                unanswered.append(part)
            elif not any(o.start <= found[0].start < o.end for o in chosen):
                chosen.append(found[0])
        answer = self._compose(info.text, chosen, passages, ctx)
        if unanswered:
            parts = "; ".join(f"“{p}”" for p in unanswered)
            answer.notice = f"The passages found do not answer {parts}."
        return answer

    def _quote_fields(
        self,
        info: QuestionInfo,
        fields: list[Passage],
        passages: list[Passage],
        ctx: AnswerContext,
    ) -> Answer:
        """Answer a question about the paper itself by quoting its front-matter field."""
        citations: list[Citation] = []
        lines: list[str] = []
        for marker, p in enumerate(fields[:2], start=1):
            citations.append(ctx.citation(marker, p, p.start, p.end))
            lines.append(f"{p.text} [{marker}]")
        return Answer(
            question=info.text,
            text="\n".join(lines),
            citations=citations,
            passages=passages,
            answerer=self.name,
        )

    def _candidates(self, passages: list[Passage], ctx: AnswerContext) -> list[_Candidate]:
        out: list[_Candidate] = []
        seen: set[tuple[str, int]] = set()
        for rank, p in enumerate(passages):
            doc = ctx.document(p.doc_id)
            text = doc.clean_text
            headings = [(int(s), int(s) + len(str(t))) for t, s, _ in doc.sections]
            # the title block says what the paper is, not what it found
            headings += [
                (f.start, f.end)
                for f in ctx.front_matter(p.doc_id)
                if f.kind in ("title", "authors", "affiliation", "venue", "keywords")
            ]
            for a, b in sentence_spans(text, p.start, p.end):
                sentence = text[a:b]
                if (p.doc_id, a) in seen or len(sentence) < 25:
                    continue
                if any(hs <= a < he for hs, he in headings):
                    continue  # a heading is a topic, not an answer (lists use them separately)
                if re.match(r"(?i)keywords?\s*:", sentence):
                    continue
                seen.add((p.doc_id, a))
                out.append(_Candidate(rank, p, a, b, sentence))
        return out

    def _score(self, info: QuestionInfo, candidates: list[_Candidate], ctx: AnswerContext) -> None:
        vectors, question = self._vectors(info, candidates, ctx)
        cosines = vectors @ question
        expansions = self.lexicon.word_expansions
        sentence_terms = [set(terms(c.text, expansions)) for c in candidates]
        q_terms = set(info.terms)
        df = {t: sum(1 for st in sentence_terms if t in st) for t in q_terms}
        n = len(candidates)
        idf = {t: math.log(1 + (n + 1) / (df[t] + 0.5)) for t in q_terms}
        total = sum(idf.values()) or 1.0
        for c, vec, cos, st in zip(candidates, vectors, cosines, sentence_terms, strict=True):
            c.vector = vec
            c.cosine = float(cos)
            c.coverage = sum(idf[t] for t in q_terms if t in st) / total
            bonus = 0.0
            if info.wants_date and _DATE.search(c.text):
                bonus = 0.1
            elif info.wants_number and re.search(r"\d", c.text):
                bonus = 0.08
            c.score = 0.65 * c.cosine + 0.35 * c.coverage + bonus + 0.03 / (1 + c.rank)

    def _vectors(
        self, info: QuestionInfo, candidates: list[_Candidate], ctx: AnswerContext
    ) -> tuple[np.ndarray, np.ndarray]:
        """The candidates' vectors and the question's: stored at ingest where the index has
        them, the rest (and the question) embedded now, in one call."""
        keys = [(c.passage.doc_id, c.start, c.end) for c in candidates]
        stored, found = ctx.sentence_vectors(keys)
        missing = [i for i, ok in enumerate(found) if not ok]
        fresh = self.embedder.embed([info.text] + [candidates[i].text for i in missing])
        if not missing:
            return stored, fresh[0]
        if not found.any():
            return fresh[1:], fresh[0]
        stored[missing] = fresh[1:]
        return stored, fresh[0]

    def _select(self, info: QuestionInfo, candidates: list[_Candidate]) -> list[_Candidate]:
        limit = self.settings.max_list_sentences if info.wants_list else self.settings.max_sentences
        ranked = sorted(candidates, key=lambda c: -c.score)
        floor = ranked[0].score - (0.15 if info.wants_list else 0.1)
        pool = [c for c in ranked if c.score >= floor]
        vectors = np.stack([c.vector for c in pool if c.vector is not None])
        assert len(vectors) == len(pool), "every candidate's vector is set by _score"
        chosen: list[int] = []
        for i in range(len(pool)):
            if len(chosen) >= limit:
                break
            if chosen and float(np.max(vectors[chosen] @ vectors[i])) > self.settings.redundancy:
                continue
            chosen.append(i)
        picked = [pool[i] for i in chosen]
        if not (info.wants_list or info.compound):  # a list (or several facts) may sit in
            # one long sentence: keep it whole
            words = self.settings.max_sentence_words
            picked = [_clause_of(c, None, set(info.focus), words) for c in picked]
        doc_order = {p: k for k, p in enumerate(dict.fromkeys(c.passage.doc_id for c in picked))}
        return sorted(picked, key=lambda c: (doc_order[c.passage.doc_id], c.start))

    def _compose(
        self, question: str, chosen: list[_Candidate], passages: list[Passage], ctx: AnswerContext
    ) -> Answer:
        markers: dict[str, int] = {}
        citations: list[Citation] = []
        parts: list[str] = []
        for c in chosen:
            marker = markers.setdefault(c.passage.chunk_id, len(markers) + 1)
            citations.append(ctx.citation(marker, c.passage, c.start, c.end))
            parts.append(f"{c.text} [{marker}]")
        return Answer(
            question=question,
            text=" ".join(parts),
            citations=citations,
            passages=passages,
            answerer=self.name,
        )

    def _list_from_sections(
        self,
        info: QuestionInfo,
        candidates: list[_Candidate],
        ctx: AnswerContext,
        passages: list[Passage],
    ) -> Answer | None:
        """Answer "what are the N challenges" with the headings of the matching sub-sections."""
        asked_section = re.search(r"\bsection\s+(\d+(?:\.\d+)*)", info.text, re.I)
        best: tuple[float, DocRecord, list[tuple[str, int, int]]] | None = None
        doc_ids = list(dict.fromkeys(c.passage.doc_id for c in candidates))
        for rank, doc_id in enumerate(doc_ids[:2]):
            doc = ctx.document(doc_id)
            sections = [(str(t), int(a), int(b)) for t, a, b in doc.sections]
            for idx, (parent, _, _) in enumerate(sections):
                items = _children(sections, idx)
                if len(items) < 2 or (info.expected_items and len(items) != info.expected_items):
                    continue
                if asked_section:
                    label = _label(parent)
                    if label is None or label[1] != asked_section.group(1):
                        continue
                elif not _names_the_list(info, parent, self.lexicon):
                    continue  # the question must ask for this kind of list
                score = 2 * _overlap(info, parent, self.lexicon) + max(
                    _overlap(info, t, self.lexicon) for t, _, _ in items
                )
                score -= rank  # prefer the paper retrieval ranked first
                if best is None or score > best[0]:
                    best = (score, doc, items)
        if best is None:
            return None
        _, doc, items = best
        sections = [(str(t), int(a), int(b)) for t, a, b in doc.sections]
        for _ in range(3):  # the items may sit one level under an item that names the list
            deeper = next(
                (
                    kids
                    for item in items
                    if _names_the_list(info, item[0], self.lexicon)
                    and len(kids := _children(sections, sections.index(item))) >= 2
                ),
                None,
            )
            if deeper is None:
                break
            items = deeper
        return self._compose_list(info, doc, items, ctx, passages)

    def _list_from_enumeration(
        self,
        info: QuestionInfo,
        candidates: list[_Candidate],
        ctx: AnswerContext,
        passages: list[Passage],
    ) -> Answer | None:
        """Answer a list question with an enumeration in the best passage's paragraph
        ("First, ... Second, ...", "(1) ... (2) ...", bullets), each item cited."""
        best = max(candidates, key=lambda c: c.score)
        doc = ctx.document(best.passage.doc_id)
        text = doc.clean_text
        para_start = text.rfind("\n\n", 0, best.start) + 1
        para_end = text.find("\n\n", best.end)
        para_end = len(text) if para_end < 0 else para_end
        items: list[tuple[int, int]] = []
        for a, b in sentence_spans(text, para_start, para_end):
            if _ENUMERATOR.match(text[a:b]):
                items.append((a, b))
        if len(items) < 2:
            return None
        chosen: list[_Candidate] = []
        for a, b in items[: self.settings.max_list_items]:
            chunk = ctx.chunk_at(doc.doc_id, a)
            if chunk is None:
                continue
            passage = next((p for p in passages if p.chunk_id == chunk.chunk_id), None)
            item = _Candidate(0, passage or ctx.passage_for(chunk), a, b, text[a:b])
            chosen.append(_clause_of(item, None, set(info.focus), self.settings.max_clause_words))
        return self._compose(info.text, chosen, passages, ctx)

    def _compare(
        self,
        info: QuestionInfo,
        candidates: list[_Candidate],
        ctx: AnswerContext,
        passages: list[Passage],
    ) -> Answer:
        """Evidence per paper (or version), side by side: the best sentences of each of the
        two best-ranked papers under that paper's title."""
        by_doc: dict[str, list[_Candidate]] = {}
        for c in sorted(candidates, key=lambda c: -c.score):
            by_doc.setdefault(c.passage.doc_id, []).append(c)
        docs = list(by_doc)[:2]
        if len(docs) < 2:
            return self._compose(info.text, self._select(info, candidates), passages, ctx)
        per = max(1, self.settings.max_sentences - 1)
        markers: dict[str, int] = {}
        citations: list[Citation] = []
        lines: list[str] = []
        for doc_id in docs:
            doc = ctx.document(doc_id)
            label = f"{doc.title} ({doc.version})" if doc.version else doc.title
            lines.append(f"“{label}”:")
            picked = self._select(info, by_doc[doc_id])[:per]
            for c in picked:
                c = _clause_of(c, None, set(info.focus), self.settings.max_clause_words)
                marker = markers.setdefault(c.passage.chunk_id, len(markers) + 1)
                citations.append(ctx.citation(marker, c.passage, c.start, c.end))
                lines.append(f"- {c.text} [{marker}]")
        return Answer(
            question=info.text,
            text="\n".join(lines),
            citations=citations,
            passages=passages,
            answerer=self.name,
        )

    def _compose_list(
        self,
        info: QuestionInfo,
        doc: DocRecord,
        items: list[tuple[str, int, int]],
        ctx: AnswerContext,
        passages: list[Passage],
    ) -> Answer:
        citations: list[Citation] = []
        lines: list[str] = []
        markers: dict[str, int] = {}
        for title, start, _ in items:
            chunk = ctx.chunk_at(doc.doc_id, start)
            if chunk is None:
                continue
            passage = next((p for p in passages if p.chunk_id == chunk.chunk_id), None)
            passage = passage or ctx.passage_for(chunk)
            marker = markers.setdefault(chunk.chunk_id, len(markers) + 1)
            citations.append(ctx.citation(marker, passage, start, start + len(title)))
            lines.append(f"- {title} [{marker}]")
        parent = _parent(doc, items)[0]
        head = f"“{doc.title}” lists these under “{parent}”:" if parent else f"“{doc.title}” lists:"
        return Answer(
            question=info.text,
            text=head + "\n" + "\n".join(lines),
            citations=citations,
            passages=passages,
            answerer=self.name,
        )


_FIELD_NAMES = {
    "affiliation": "authors' affiliation or contact details",
    "authors": "authors",
    "venue": "journal or year of publication",
    "funding": "funding",
    "keywords": "keywords",
    "title": "title",
}


def _neighbourhood(ctx: AnswerContext, c: _Candidate) -> str:
    """The candidate sentence with the sentences either side (a figure's unit may sit there)."""
    text = ctx.document(c.passage.doc_id).clean_text
    return text[max(0, c.start - 200) : c.end + 200]


def _best_span(
    info: QuestionInfo, sentence: str, spans: list[TypedSpan]
) -> tuple[tuple[int, int], int]:
    """The typed span nearest the question's unit or focus words (the first when none occur),
    and its distance in characters from the nearest of them."""
    anchors = [
        m.start()
        for t in (info.unit, *info.focus)
        if t
        for m in re.finditer(re.escape(t[:5]), sentence, re.I)
    ]
    if not anchors:
        return (spans[0].start, spans[0].end), len(sentence)

    def distance(sp: TypedSpan) -> int:
        return min(min(abs(sp.start - a), abs(sp.end - a)) for a in anchors)

    best = min(spans, key=distance)
    return (best.start, best.end), distance(best)


def _clause_of(
    c: _Candidate, anchor: tuple[int, int] | None, focus: set[str], max_words: int
) -> _Candidate:
    """``c`` cut to the clauses around ``anchor`` (offsets stay exact)."""
    a, b = clause_window(c.text, anchor, focus, max_words)
    if (a, b) == (0, len(c.text)):
        return c
    return replace(c, start=c.start + a, end=c.start + b, text=c.text[a:b])


def _coverage_note(info: QuestionInfo, candidates: list[_Candidate]) -> str:
    """What the closest passages are about, for a declined question."""
    kind = {
        "person": "a person's name",
        "organisation": "an organisation's name",
        "place": "a place",
        "date": "a date",
        "count": "a figure",
        "money": "an amount of money",
        "percent": "a percentage",
    }.get(info.kind, "an answer")
    ranked = sorted(candidates, key=lambda c: -c.score)
    sections = [c.passage.section for c in ranked if c.passage.section][:2]
    about = " and ".join(f"“{x}”" for x in dict.fromkeys(sections))
    where = f" The closest passages are in {about}." if about else ""
    return f"No passage gives {kind} for what is asked.{where}"


_ASKING = frozenset(
    "what which who whom whose why when where how in per according is are was were does do did "
    "the a an and or of for to".split()
)


def _unmatched_specifics(question: str, passages: list[Passage], ctx: AnswerContext) -> list[str]:
    """Figures and names the question asks about that the papers never mention.

    A question about "2030" or "Russia" cannot be answered from papers that contain neither,
    however close its other words are: on-topic questions otherwise look answerable.
    """
    docs = {p.doc_id for p in passages}
    texts = [ctx.document(d).clean_text for d in docs]
    missing: list[str] = []
    for number in re.findall(r"(?<![Ss]ection )\b\d[\d,.]*\d%?", question):
        if not any(number.rstrip("%") in t for t in texts):
            missing.append(number)
    for name in re.findall(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)*\b", question)[1:]:
        parts = [p for p in name.split("-") if p.lower() not in _ASKING]
        if parts and not all(ctx.has_word(p) for p in parts):
            missing.append(name)
    return missing


def _confident(answer: Answer, score: float) -> Answer:
    """Record the best sentence score: the eval sweeps the abstain threshold without re-asking."""
    answer.confidence = round(score, 6)
    return answer


def _names_the_list(info: QuestionInfo, parent: str, lexicon: Lexicon) -> bool:
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


def _label(title: str) -> tuple[str, str] | None:
    """("num", "4.1") or ("paren", "3") for a numbered heading, else None."""
    if m := _NUMBERED.match(title):
        return "num", m.group(1)
    if m := _PAREN.match(title):
        return "paren", m.group(1)
    return None


def _section_group(doc: DocRecord, section: str) -> list[tuple[str, int, int]]:
    """Children of ``section`` if it has any, else the run of siblings it belongs to."""
    sections = [(str(t), int(s), int(e)) for t, s, e in doc.sections]
    idx = next((i for i, s in enumerate(sections) if s[0] == section), None)
    if idx is None:
        return []
    label = _label(section)
    if label is None:
        return []
    children = _children(sections, idx)
    if len(children) >= 2:
        return children
    parent_idx = _parent_index(sections, idx)
    return _children(sections, parent_idx) if parent_idx is not None else []


def _children(sections: list[tuple[str, int, int]], idx: int) -> list[tuple[str, int, int]]:
    label = _label(sections[idx][0])
    if label is None:
        return []
    kind, num = label
    out: list[tuple[str, int, int]] = []
    numbered_children = False
    for title, s, e in sections[idx + 1 :]:
        lab = _label(title)
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


def _parent_index(sections: list[tuple[str, int, int]], idx: int) -> int | None:
    label = _label(sections[idx][0])
    if label is None:
        return None
    kind, num = label
    for j in range(idx - 1, -1, -1):
        lab = _label(sections[j][0])
        if lab is None:
            continue
        if kind == "paren" and lab[0] == "num":
            return j
        if kind == "num" and lab[0] == "num" and "." in num and lab[1] == num.rsplit(".", 1)[0]:
            return j
    return None


def _parent(doc: DocRecord, items: list[tuple[str, int, int]]) -> tuple[str, int, int]:
    sections = [(str(t), int(s), int(e)) for t, s, e in doc.sections]
    first = items[0]
    idx = next((i for i, s in enumerate(sections) if s == first), None)
    parent = _parent_index(sections, idx) if idx is not None else None
    return sections[parent] if parent is not None else ("", 0, 0)
