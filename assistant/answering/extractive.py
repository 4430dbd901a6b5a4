"""The offline default answerer: quote the sentences that answer the question, and cite them.

A trained reader decides (``features.py`` computes, ``scorer.py`` weighs): each sentence of the
retrieved passages gets a probability of answering the question (meaning, the kind of span
asked for, scope, position), and the question a calibrated probability of being answerable from
them; below the threshold chosen on dev data it declines, saying what the closest passage does
give when that is another year or a running total. Above it one strategy per kind of question
composes the answer (``strategies/``): a who/when/how-many answer leads with the answering span;
lists are sub-section headings or an enumeration; comparisons quote each paper; why/how
questions quote the most probable sentence first. Overview questions quote abstracts and
conclusions (``overview.py``). Every quote is verbatim, so every citation is checkably true.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import numpy as np

from ..corpus.lexicon import EMPTY, Lexicon
from ..embeddings import Embedder
from ..retrieval.plan import QuestionPlan, make_plan
from ..retrieval.query import QuestionInfo
from ..sentences import sentence_spans
from ..settings import AnswerSettings
from ..types import Answer, Passage
from .base import AnswerContext, abstention
from .features import (
    Candidate,
    QuestionVectors,
    focus_phrase,
    question_features,
    sentence_features,
)
from .overview import overview_answer
from .scorer import ReaderModel, load_model
from .strategies import comparison, compound, factual, front_matter, listing, prose
from .strategies.common import (
    Decline,
    Reading,
    cite_decline,
    confident,
    coverage_note,
    scope_note,
)

_MIN_SENTENCE_CHARS = 25  # shorter "sentences" are headings, labels or splitter fragments
_NEIGHBOURHOOD_CHARS = 200  # text either side of a sentence where a figure's unit may sit


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
        self,
        question: str,
        passages: list[Passage],
        ctx: AnswerContext,
        plan: QuestionPlan | None = None,
    ) -> Iterator[str | Answer]:
        answer = self.answer(question, passages, ctx, plan)
        for piece in re.split(r"(?<=\s)", answer.text):
            if piece:
                yield piece
        yield answer

    def answer(
        self,
        question: str,
        passages: list[Passage],
        ctx: AnswerContext,
        plan: QuestionPlan | None = None,
    ) -> Answer:
        """Read the passages, decide whether they answer, and compose by the plan's kind.

        ``plan``: the question's plan (made by ``Assistant`` with the chat history); without
        one the question is planned here, as a first question.
        """
        if plan is None:
            plan = make_plan(question, lexicon=self.lexicon)
        quoted = front_matter.answer(question, plan, passages, ctx, self.name)
        if quoted is not None:  # "who funded the study?": the field itself
            return quoted
        overview = overview_answer(question, plan.overview, passages, ctx, self.name)
        if overview is not None:  # what the papers are about, from abstracts and conclusions
            return overview
        info = plan.info
        body = [p for p in passages if p.field is None]
        candidates = self._candidates(body, ctx)
        if not candidates:
            return abstention(question, passages, self.name)
        features = self.read(info, candidates, ctx, plan)
        for c, p in zip(candidates, self.model.selection.probabilities(features), strict=True):
            c.probability = float(p)
        row = self.question_row(info, candidates, passages, ctx, plan)
        confidence = float(self.model.answerability.probabilities(row[None, :])[0])
        r = Reading(
            question, plan, passages, candidates, ctx, self.settings, self.lexicon, self.name
        )
        if info.wants_list:  # a list whose heading the question names answers it outright
            listed = listing.from_sections(r)
            if listed is not None:
                return confident(listed, 1.0)
        if plan.comparison and plan.papers and confidence < self.threshold:
            # "compare how paper A and <another> describe X" names an indexed paper: each
            # paper's closest sentences answer it, side by side, whatever the score
            return confident(_strategy(plan)(r), self.threshold)
        declined = self._decline(r, confidence)
        if declined is not None:
            return confident(declined, confidence)
        return confident(_strategy(plan)(r), confidence)

    def _decline(self, r: Reading, confidence: float) -> Answer | None:
        """The abstention when the passages do not answer: too unlikely, or about figures or
        names the papers never mention; it says why, citing what they do give if it helps."""
        missing = _unmatched_specifics(r.question, r.passages, r.ctx)
        if confidence >= self.threshold and not _off_corpus(r.question, missing):
            return None
        reason = (
            Decline(f"They never mention {', '.join(missing)}.")
            if missing
            else (scope_note(r.plan, r.candidates) or coverage_note(r.plan, r.candidates))
        )
        declined = abstention(r.question, r.passages, self.name, reason.text)
        if reason.cite is not None:
            declined = cite_decline(declined, reason, r.ctx)
        return declined

    # -- reading: features for the trained model -----------------------------------------

    def read(
        self,
        info: QuestionInfo,
        candidates: list[Candidate],
        ctx: AnswerContext,
        plan: QuestionPlan | None = None,
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
            scope=plan.scope if plan is not None else None,
        )

    def question_row(
        self,
        info: QuestionInfo,
        candidates: list[Candidate],
        passages: list[Passage],
        ctx: AnswerContext,
        plan: QuestionPlan | None = None,
    ) -> np.ndarray:
        """The answerability model's input (candidates carry their selection probabilities)."""
        missing = _unmatched_specifics(info.text, passages, ctx)
        named = bool(ctx.paper_names().named(info.text).docs)
        expansions = self.lexicon.word_expansions
        scope = plan.scope if plan is not None else None
        return question_features(
            info, candidates, passages, len(missing), named, expansions, scope=scope
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
                if (p.doc_id, a) in seen or len(sentence) < _MIN_SENTENCE_CHARS:
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


def _neighbourhood(ctx: AnswerContext, c: Candidate) -> str:
    """The candidate sentence with the sentences either side (a figure's unit may sit there)."""
    text = ctx.document(c.passage.doc_id).clean_text
    return text[max(0, c.start - _NEIGHBOURHOOD_CHARS) : c.end + _NEIGHBOURHOOD_CHARS]


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


def _strategy(plan: QuestionPlan) -> Callable[[Reading], Answer]:
    """The strategy that composes an answer of the plan's kind."""
    info = plan.info
    if info.wants_list:  # an enumeration, else the kind's own strategy
        return _enumeration_or(_kind_strategy(plan))
    return _kind_strategy(plan)


def _kind_strategy(plan: QuestionPlan) -> Callable[[Reading], Answer]:
    if plan.kind == "comparison":
        return comparison.answer
    if plan.info.compound:
        return compound.answer
    if plan.info.factual:
        return factual.answer
    return prose.answer


def _enumeration_or(otherwise: Callable[[Reading], Answer]) -> Callable[[Reading], Answer]:
    def compose(r: Reading) -> Answer:
        listed = listing.from_enumeration(r)
        return listed if listed is not None else otherwise(r)

    return compose
