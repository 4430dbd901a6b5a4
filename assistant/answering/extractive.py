"""The offline default answerer: quote the sentences that answer the question, and cite them.

A trained reader decides (``features.py`` computes, ``scorer.py`` weighs): each sentence of the
retrieved passages gets a probability of answering the question (meaning, the kind of span
asked for, scope, position), and the question a calibrated probability of being answerable from
them; below the threshold chosen on dev data it declines, saying what the closest passage does
give when that is another year or a running total. Above it the answer is composed by kind: a
who/when/how-many answer leads with the answering span, then quotes the whole sentence; lists are
sub-section headings or an enumeration; comparisons quote each paper; overview questions quote
abstracts and conclusions. Every quote is verbatim, so every citation is checkably true.
"""

from __future__ import annotations

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
from .evidence import clause_window, typed_spans
from .features import (
    Candidate,
    QuestionVectors,
    focus_phrase,
    question_features,
    question_years,
    sentence_features,
    span_distance,
)
from .overview import overview_answer, wants_overview
from .scorer import ReaderModel, load_model

_ENUMERATOR = re.compile(
    r"^(?:(?:First|Second|Third|Fourth|Fifth|Sixth|Finally|Lastly)(?:ly)?\b[,:]?|\(\d{1,2}\)|"
    r"\d{1,2}\)|[•\-\*]\s)"
)
_MONTH_BEFORE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\s+(?:\d{1,2},?\s+)?$"
)
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s*\S")
_PAREN = re.compile(r"^\((\d+)\)\s*\S")


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
        self._model: ReaderModel | None = None

    @property
    def model(self) -> ReaderModel:
        """The trained reader (loaded on first use: training reads features without it)."""
        if self._model is None:
            self._model = load_model(self.settings.reader_model)
        return self._model

    @property
    def threshold(self) -> float:
        """Answerable probability below which it declines: the setting, else the model's."""
        t = self.settings.abstain_threshold
        return self.model.threshold if t is None else t

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
        overview = overview_answer(question, wants_overview(question), passages, ctx, self.name)
        if overview is not None:  # what the papers are about, from abstracts and conclusions
            return overview
        body = [p for p in passages if p.field is None]
        candidates = self._candidates(body, ctx)
        if not candidates:
            return abstention(question, passages, self.name)
        features = self.read(info, candidates, ctx)
        for c, p in zip(candidates, self.model.selection.probabilities(features), strict=True):
            c.probability = float(p)
        row = self.question_row(info, candidates, passages, ctx)
        confidence = float(self.model.answerability.probabilities(row[None, :])[0])
        if info.wants_list:  # a list whose heading the question names answers it outright
            listed = self._list_from_sections(info, candidates, ctx, passages)
            if listed is not None:
                return _confident(listed, 1.0)
        missing = _unmatched_specifics(question, passages, ctx)
        if confidence < self.threshold or _off_corpus(question, missing):
            reason = (
                _Decline(f"They never mention {', '.join(missing)}.")
                if missing
                else (_scope_note(info, candidates) or _coverage_note(info, candidates))
            )
            declined = abstention(question, passages, self.name, reason.text)
            if reason.cite is not None:
                declined = self._cite_decline(declined, reason, ctx)
            return _confident(declined, confidence)
        if info.wants_list:
            listed = self._list_from_enumeration(info, candidates, ctx, passages)
            if listed is not None:
                return _confident(listed, confidence)
        if info.kind == "comparison":
            return _confident(self._compare(info, candidates, ctx, passages), confidence)
        if info.compound:
            return _confident(self._compound(info, candidates, ctx, passages), confidence)
        if info.factual:
            led = self._lead_with_span(info, candidates, ctx, passages)
            if led is None:  # a who/when/how-many question, and no sentence holds such a span
                why = _coverage_note(info, candidates).text
                return _confident(abstention(question, passages, self.name, why), confidence)
            scope = _scope_note(info, self._typed(info, candidates, ctx)[:1])
            if scope is not None:  # the figure is for another year, or a running total
                declined = abstention(question, passages, self.name, scope.text)
                return _confident(self._cite_decline(declined, scope, ctx), confidence)
            return _confident(led, confidence)
        chosen = self._select(info, candidates)
        return _confident(self._compose(question, chosen, passages, ctx), confidence)

    # -- reading: features for the trained model -----------------------------------------

    def read(
        self, info: QuestionInfo, candidates: list[Candidate], ctx: AnswerContext
    ) -> np.ndarray:
        """The candidates' feature rows (and their vectors, kept for the redundancy check)."""
        vectors, qv = self._vectors(info, candidates, ctx)
        for c, v in zip(candidates, vectors, strict=True):
            c.vector = v
        contexts = [_neighbourhood(ctx, c) for c in candidates]
        return sentence_features(
            info,
            candidates,
            vectors,
            qv,
            contexts,
            self.lexicon.word_expansions,
            self.settings.typed_candidates,
        )

    def question_row(
        self,
        info: QuestionInfo,
        candidates: list[Candidate],
        passages: list[Passage],
        ctx: AnswerContext,
    ) -> np.ndarray:
        """The answerability model's input (candidates carry their selection probabilities)."""
        missing = _unmatched_specifics(info.text, passages, ctx)
        named = bool(ctx.paper_names().named(info.text).docs)
        expansions = self.lexicon.word_expansions
        return question_features(info, candidates, passages, len(missing), named, expansions)

    def _typed(
        self,
        info: QuestionInfo,
        candidates: list[Candidate],
        ctx: AnswerContext,
        whole: QuestionInfo | None = None,
    ) -> list[Candidate]:
        """The most probable sentences holding a span of the asked kind, best first (empty
        when none does). ``whole``: the full question when ``info`` is one part of it."""
        if whole is not None:
            info = replace(info, focus=info.focus or whole.focus)
        ranked = sorted(candidates, key=lambda c: -c.probability)
        best = ranked[0].probability
        found: list[Candidate] = []
        for c in ranked[: self.settings.typed_candidates]:
            if c.probability < best * self.settings.keep_share:
                break
            if (whole is not None or info.unit) and not c.row.get("tied_to_focus"):
                continue  # a part of a compound question, or "how many <unit>": about it
            if typed_spans(c.text, info.kind):
                found.append(c)
        # among likely sentences, one whose span sits next to the words asked about leads
        found.sort(key=lambda c: -c.row.get("span_adjacent", 0.0))
        return found[: self.settings.max_factual_sentences]

    def _lead_with_span(
        self,
        info: QuestionInfo,
        candidates: list[Candidate],
        ctx: AnswerContext,
        passages: list[Passage],
    ) -> Answer | None:
        """A who/when/how-many answer: the answering span first, verbatim from the cited
        sentence, then the whole sentence (and a second one that also holds such a span)."""
        typed = self._typed(info, candidates, ctx)
        if not typed:
            return None
        first = typed[0]
        spans = typed_spans(first.text, info.kind)
        (a, b), _ = span_distance(info, first.text, spans)
        month = _MONTH_BEFORE.search(first.text[:a]) if info.kind == "date" else None
        a = month.start() if month else a  # "March 2017", not "2017"
        answer = self._compose(info.text, typed, passages, ctx)
        marker = answer.citations[0].marker
        span = first.text[a:b].strip()
        citation = ctx.citation(marker, first.passage, first.start + a, first.start + b)
        answer.text = f"{span} [{marker}]\n\n{answer.text}"
        answer.citations.insert(0, citation)
        return answer

    def _cite_decline(self, declined: Answer, why: _Decline, ctx: AnswerContext) -> Answer:
        """A decline that shows what the papers do give, cited (another year, a total)."""
        c = why.cite
        assert c is not None
        declined.text = f"{declined.text} “{c.text}” [1]"
        declined.citations = [ctx.citation(1, c.passage, c.start, c.end)]
        return declined

    def _compound(
        self,
        info: QuestionInfo,
        candidates: list[Candidate],
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

    def _candidates(self, passages: list[Passage], ctx: AnswerContext) -> list[Candidate]:
        out: list[Candidate] = []
        seen: set[tuple[str, int]] = set()
        for rank, p in enumerate(passages):
            doc = ctx.document(p.doc_id)
            text = doc.clean_text
            headings = [(int(s), int(s) + len(str(t))) for t, s, _ in doc.sections]
            # the title block says what the paper is, not what it found
            fields = ctx.front_matter(p.doc_id)
            headings += [
                (f.start, f.end)
                for f in fields
                if f.kind in ("title", "authors", "affiliation", "venue", "keywords")
            ]
            abstracts = [(f.start, f.end) for f in fields if f.kind == "abstract"]
            for a, b in sentence_spans(text, p.start, p.end):
                sentence = text[a:b]
                if (p.doc_id, a) in seen or len(sentence) < 25:
                    continue
                if any(hs <= a < he for hs, he in headings):
                    continue  # a heading is a topic, not an answer (lists use them separately)
                if re.match(r"(?i)keywords?\s*:", sentence):
                    continue
                seen.add((p.doc_id, a))
                abstract = any(fs <= a < fe for fs, fe in abstracts)
                out.append(Candidate(rank, p, a, b, sentence, front_matter=abstract))
        return out

    def _vectors(
        self, info: QuestionInfo, candidates: list[Candidate], ctx: AnswerContext
    ) -> tuple[np.ndarray, QuestionVectors]:
        """The candidates' vectors (stored at ingest where the index has them; the rest
        embedded now) and the question's and its focus phrase's, in one encoder call."""
        keys = [(c.passage.doc_id, c.start, c.end) for c in candidates]
        stored, found = ctx.sentence_vectors(keys)
        missing = [i for i, ok in enumerate(found) if not ok]
        texts = [info.text, focus_phrase(info)] + [candidates[i].text for i in missing]
        fresh = self.embedder.embed(texts)
        qv = QuestionVectors(fresh[0], fresh[1])
        if not missing:
            return stored, qv
        if not found.any():
            return fresh[2:], qv
        stored[missing] = fresh[2:]
        return stored, qv

    def _select(self, info: QuestionInfo, candidates: list[Candidate]) -> list[Candidate]:
        """The most probable sentences, none repeating another, in the papers' order."""
        limit = self.settings.max_list_sentences if info.wants_list else self.settings.max_sentences
        ranked = sorted(candidates, key=lambda c: -c.probability)
        floor = ranked[0].probability * self.settings.keep_share
        pool = [c for c in ranked if c.probability >= floor]
        vectors = np.stack([c.vector for c in pool if c.vector is not None])
        assert len(vectors) == len(pool), "every candidate's vector is set by read()"
        chosen: list[int] = []
        for i in range(len(pool)):
            if len(chosen) >= limit:
                break
            if chosen and float(np.max(vectors[chosen] @ vectors[i])) > self.settings.redundancy:
                continue
            chosen.append(i)
        picked = [pool[i] for i in chosen]
        doc_order = {p: k for k, p in enumerate(dict.fromkeys(c.passage.doc_id for c in picked))}
        in_order = sorted(picked, key=lambda c: (doc_order[c.passage.doc_id], c.start))
        if info.wants_list:
            return in_order
        # the answer leads with the sentence most likely to answer; the rest read in order
        return picked[:1] + [c for c in in_order if c is not picked[0]]

    def _compose(
        self, question: str, chosen: list[Candidate], passages: list[Passage], ctx: AnswerContext
    ) -> Answer:
        markers: dict[str, int] = {}
        citations: list[Citation] = []
        parts: list[str] = []
        for c in chosen:
            c = _whole_sentence(ctx, c)
            marker = markers.setdefault(c.passage.chunk_id, len(markers) + 1)
            citations.append(ctx.citation(marker, c.passage, c.start, c.end))
            parts.append(f"{_one_line(c.text)} [{marker}]")
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
        candidates: list[Candidate],
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
        candidates: list[Candidate],
        ctx: AnswerContext,
        passages: list[Passage],
    ) -> Answer | None:
        """Answer a list question with an enumeration in the best passage's paragraph
        ("First, ... Second, ...", "(1) ... (2) ...", bullets), each item cited."""
        best = max(candidates, key=lambda c: c.probability)
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
        chosen: list[Candidate] = []
        for a, b in items[: self.settings.max_list_items]:
            chunk = ctx.chunk_at(doc.doc_id, a)
            if chunk is None:
                continue
            passage = next((p for p in passages if p.chunk_id == chunk.chunk_id), None)
            item = Candidate(0, passage or ctx.passage_for(chunk), a, b, text[a:b])
            chosen.append(_clause_of(item, None, set(info.focus), self.settings.max_clause_words))
        return self._compose(info.text, chosen, passages, ctx)

    def _compare(
        self,
        info: QuestionInfo,
        candidates: list[Candidate],
        ctx: AnswerContext,
        passages: list[Passage],
    ) -> Answer:
        """Evidence per paper (or version), side by side: the best sentences of each of the
        two best-ranked papers under that paper's title."""
        by_doc: dict[str, list[Candidate]] = {}
        for c in sorted(candidates, key=lambda c: -c.probability):
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


def _clause_of(
    c: Candidate, anchor: tuple[int, int] | None, focus: set[str], max_words: int
) -> Candidate:
    """``c`` cut to the clauses around ``anchor`` (offsets stay exact)."""
    a, b = clause_window(c.text, anchor, focus, max_words)
    if (a, b) == (0, len(c.text)):
        return c
    return replace(c, start=c.start + a, end=c.start + b, text=c.text[a:b])


@dataclass(frozen=True)
class _Decline:
    """Why the reader declines, and the sentence that shows what the papers do give."""

    text: str
    cite: Candidate | None = None


def _whole_sentence(ctx: AnswerContext, c: Candidate) -> Candidate:
    """``c`` from the start of its sentence when it begins inside one ("relations, the ..."):
    a chunk that began mid-sentence, or a page break the cleaner kept as a paragraph break.
    A quote starts where its sentence does; offsets stay exact."""
    if c.text[:1].isupper() or c.text[:1].isdigit() or c.text[:1] in "“\"'([":
        return c
    text = ctx.document(c.passage.doc_id).clean_text
    start = c.start
    for _ in range(2):  # this paragraph, then (across a break) the one before
        para = text.rfind("\n\n", 0, start)
        para = 0 if para < 0 else para + 2
        starts = [a for a, b in sentence_spans(text, para, start + 1) if a < start]
        if starts:
            start = starts[-1]
            break
        if para == 0:
            break
        before = text[:para].rstrip()
        if not before or before[-1] in ".!?。！？:":
            break  # the paragraph before ends its own sentence: nothing to join
        start = para - 2
    if start == c.start:
        return c
    return replace(c, start=start, text=text[start : c.end])


def _one_line(text: str) -> str:
    """A quote as shown in the answer: a page break inside it read as a space."""
    return re.sub(r"\s*\n\s*", " ", text)


def _neighbourhood(ctx: AnswerContext, c: Candidate) -> str:
    """The candidate sentence with the sentences either side (a figure's unit may sit there)."""
    text = ctx.document(c.passage.doc_id).clean_text
    return text[max(0, c.start - 200) : c.end + 200]


def _coverage_note(info: QuestionInfo, candidates: list[Candidate]) -> _Decline:
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
    ranked = sorted(candidates, key=lambda c: -c.probability)
    sections = [c.passage.section for c in ranked if c.passage.section][:2]
    about = " and ".join(f"“{x}”" for x in dict.fromkeys(sections))
    where = f" The closest passages are in {about}." if about else ""
    return _Decline(f"No passage gives {kind} for what is asked.{where}")


def _scope_note(info: QuestionInfo, candidates: list[Candidate]) -> _Decline | None:
    """When the closest sentence answers for another year or over a longer period, say what
    it does give ("the papers give the figure for 2017, not 2022")."""
    ranked = sorted(candidates, key=lambda c: -c.probability)[:3]
    asked = sorted(question_years(info.text))
    for c in ranked:
        if c.row.get("year_conflict") and asked:
            stated = sorted(set(re.findall(r"\b(?:19|20)\d{2}\b", c.text)))
            return _Decline(
                f"The closest passage gives {', '.join(stated)}, not {', '.join(asked)}:", c
            )
        if c.row.get("cumulative_conflict"):
            return _Decline(
                "The closest passage gives a figure over several years or a running total, "
                "not for the single period asked:",
                c,
            )
    return None


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


def _off_corpus(question: str, missing: list[str]) -> bool:
    """Is the question about a figure, or only about names, that no retrieved paper mentions?
    ("the capital of France"). One unknown word among known names ("Railway Express" for the
    papers' "liner") is left to the trained model: it may be the user's word for the thing."""
    if any(m[0].isdigit() for m in missing):
        return True
    names = [n for n in re.findall(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)*\b", question)[1:]]
    names = [n for n in names if n.lower() not in _ASKING]
    return bool(names) and len([m for m in missing if not m[0].isdigit()]) == len(names)


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
