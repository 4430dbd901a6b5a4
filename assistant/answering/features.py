"""What the reader knows about each candidate sentence, as numbers a trained model can weigh.

A candidate is one sentence of a retrieved passage. Its features say how close it is to the
question in meaning (embedding cosines with the question and with the question's focus phrase,
not shared words alone), whether it holds a span of the kind asked for (a date, a figure, a
name), whether its scope agrees with the question's (the year asked vs the years stated; one
year vs a running total), and where it sits (passage rank, front matter, a fragment). The
question-level features summarise the best candidates for the answerability model.

Feature names are the contract with the weights file (``reader_model.json``): add a feature,
retrain (``python -m assistant.evaluation.train_reader``), and the file records the new list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..retrieval.plan import RUNNING_TOTAL, YEAR, Scope, question_scope
from ..retrieval.query import QuestionInfo, terms
from ..types import Passage
from .evidence import TypedSpan, tied_to_focus, typed_spans

SENTENCE_FEATURES: tuple[str, ...] = (
    "cos_question",
    "cos_question_gap",  # cosine minus the best cosine among the candidates
    "cos_focus",
    "cos_focus_gap",
    "coverage",  # idf-weighted share of the question's terms in the sentence
    "coverage_gap",
    "focus_share",  # share of the focus terms in the sentence
    "tied_to_focus",  # holds the question's figures, most focus words, the unit counted nearby
    "passage_rank",  # 1 / (1 + rank of its passage)
    "passage_dense",  # its passage's cosine with the question
    "passage_bm25",  # its passage's BM25 score over the best passage's
    "cos_window",  # question cosine of the sentence and its neighbours in the passage
    "section_share",  # share of the focus terms in its section's title
    "cos_rank",  # 1 / (1 + its rank by question cosine among the candidates)
    "kind_present",  # a span of the asked kind (factual questions only)
    "span_near_focus",  # 1 when that span sits next to the words asked about, 0 far away
    "span_adjacent",  # that span within a few words of a word asked about
    "factual_without_kind",  # a factual question and no span of its kind here
    "reason_cue",  # why/how question and a causal or method connective here
    "figure_present",  # a figure (number, share, amount) where one is wanted
    "year_match",  # the question names a year and the sentence states it
    "year_conflict",  # the question names a year; the sentence states only others
    "cumulative_conflict",  # one period asked, a running total or a span of years stated
    "fragment",  # starts lower case or with a conjunction: not a quotable sentence
    "front_matter",  # title, author, affiliation or keyword lines
    "log_words",
)

QUESTION_FEATURES: tuple[str, ...] = (
    "best_probability",
    "second_probability",
    "mean_top3_probability",
    "best_cos_question",
    "best_cos_focus",
    "best_coverage",
    "best_focus_share",
    "best_kind_present",
    "factual",
    "best_year_conflict",
    "best_cumulative_conflict",
    "missing_specifics",  # names and figures of the question found in no retrieved paper
    "focus_missing_top3",  # share of the focus terms in none of the 3 most probable sentences
    "focus_missing_passages",  # share of the focus terms in none of the retrieved passages
    "year_missing",  # the question names a year no retrieved passage states
    "best_span_near_focus",
    "names_a_paper",
)

_REASON = re.compile(
    r"(?i)\b(?:because|due to|owing to|as a result|result(?:s|ed)? in|lead(?:s)? to|led to|"
    r"so as to|in order to|so that|therefore|thus|hence|by (?:\w+ing)|through|which (?:helps|"
    r"enables|allows|makes)|aim(?:s|ed)? (?:at|to)|help(?:s|ed)? to|contribut\w+ to|drive[sn]?|"
    r"promot\w+|enabl\w+|mean(?:s)? that)\b"
)
_FIGURE = re.compile(r"\d|(?i:\b(?:percent|million|billion|thousand|hundred|half|third)\b)")
_CONJUNCTION = re.compile(r"(?i)^(?:and|or|but|which|that|while|whereas|who|where|nor|so)\b")


@dataclass
class Candidate:
    """One sentence of a retrieved passage, with its exact offsets in the cleaned paper."""

    rank: int  # of its passage
    passage: Passage
    start: int
    end: int
    text: str
    front_matter: bool = False  # inside the paper's abstract
    probability: float = 0.0
    vector: np.ndarray | None = None
    row: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return self.probability


@dataclass(frozen=True)
class QuestionVectors:
    question: np.ndarray
    focus: np.ndarray


# Words that ask rather than say what is asked about (the focus phrase drops them).
_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how many much is are was were do does did the a "
    "an of paper papers study article according to".split()
)


def focus_phrase(info: QuestionInfo) -> str:
    """The question without its question words: what it is about, in the user's words."""
    words = re.findall(r"[A-Za-z][A-Za-z\-']*|\d[\d,.]*%?", info.text)
    kept = [w for w in words if w.lower() not in _QUESTION_WORDS]
    return " ".join(kept) or info.text


def span_distance(
    info: QuestionInfo, sentence: str, spans: Sequence[TypedSpan]
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


def sentence_features(
    info: QuestionInfo,
    candidates: Sequence[Candidate],
    vectors: np.ndarray,
    qv: QuestionVectors,
    contexts: Sequence[str],
    expansions: dict[str, str] | None = None,
    typed_limit: int = 12,
    scope: Scope | None = None,
) -> np.ndarray:
    """One row per candidate, columns in :data:`SENTENCE_FEATURES` order.

    The tagger (spaCy, for names) runs only on the ``typed_limit`` candidates closest to the
    question: the rest keep ``kind_present`` at 0, at training time as at answer time.
    ``contexts``: each sentence with its neighbours (a figure's unit may sit there).
    ``scope``: the question's (``QuestionPlan.scope``; else read from ``info.text``).
    """
    n = len(candidates)
    out = np.zeros((n, len(SENTENCE_FEATURES)), np.float32)
    if n == 0:
        return out
    cos_q = vectors @ qv.question
    cos_f = vectors @ qv.focus
    sentence_terms = [set(terms(c.text.replace("-", " "), expansions)) for c in candidates]
    q_terms = set(info.terms)
    df = {t: sum(1 for st in sentence_terms if t in st) for t in q_terms}
    idf = {t: math.log(1 + (n + 1) / (df[t] + 0.5)) for t in q_terms}
    total = sum(idf.values()) or 1.0
    coverage = np.array(
        [sum(idf[t] for t in q_terms if t in st) / total for st in sentence_terms], np.float32
    )
    focus = [t for t in info.focus if not t[0].isdigit()]
    scope = scope if scope is not None else question_scope(info.text)
    years = set(scope.years)
    prelim = 0.65 * cos_q + 0.35 * coverage
    typed_rows = set(np.argsort(-prelim)[:typed_limit].tolist()) if info.factual else set()
    bm25_best = max((c.passage.scores.get("bm25", 0.0) for c in candidates), default=0.0) or 1.0
    window = np.array(cos_q, np.float32)
    for i in range(n):
        beside = [
            float(cos_q[j])
            for j in (i - 1, i + 1)
            if 0 <= j < n and candidates[j].passage.chunk_id == candidates[i].passage.chunk_id
        ]
        window[i] = (float(cos_q[i]) + sum(beside)) / (1 + len(beside))
    cos_order = np.empty(n, np.int64)
    cos_order[np.argsort(-cos_q)] = np.arange(n)
    for i, c in enumerate(candidates):
        text = c.text
        spans = typed_spans(text, info.kind) if i in typed_rows else []
        has_kind = bool(spans)
        near = distance = 0.0
        if spans:
            distance = span_distance(info, text, spans)[1]
            near = 1.0 - min(distance, 300) / 300
        stated = set(YEAR.findall(text))
        row: dict[str, float] = {
            "cos_question": float(cos_q[i]),
            "cos_question_gap": float(cos_q[i] - cos_q.max()),
            "cos_focus": float(cos_f[i]),
            "cos_focus_gap": float(cos_f[i] - cos_f.max()),
            "coverage": float(coverage[i]),
            "coverage_gap": float(coverage[i] - coverage.max()),
            "focus_share": (sum(t in sentence_terms[i] for t in focus) / len(focus))
            if focus
            else 0.0,
            "tied_to_focus": float(tied_to_focus(info, text, contexts[i], 0.5, expansions)),
            "passage_rank": 1.0 / (1 + c.rank),
            "passage_dense": c.passage.scores.get("dense", 0.0),
            "passage_bm25": c.passage.scores.get("bm25", 0.0) / bm25_best,
            "cos_window": float(window[i]),
            "section_share": (
                sum(t in set(terms(c.passage.section, expansions)) for t in focus) / len(focus)
            )
            if focus and c.passage.section
            else 0.0,
            "cos_rank": 1.0 / (1 + float(cos_order[i])),
            "kind_present": float(has_kind),
            "span_near_focus": near,
            "span_adjacent": float(bool(spans) and distance <= 25),
            "factual_without_kind": float(info.factual and not has_kind),
            "reason_cue": float(info.kind == "reason" and bool(_REASON.search(text))),
            "figure_present": float(info.wants_number and bool(_FIGURE.search(text))),
            "year_match": float(bool(years & stated)),
            "year_conflict": float(bool(years) and bool(stated) and not years & stated),
            "cumulative_conflict": float(scope.one_period and bool(RUNNING_TOTAL.search(text))),
            "fragment": float(
                (not text[:1].isupper() and not text[:1].isdigit())
                or bool(_CONJUNCTION.match(text))
            ),
            "front_matter": float(c.front_matter),
            "log_words": math.log(1 + len(text.split())),
        }
        c.row = row
        out[i] = [row[name] for name in SENTENCE_FEATURES]
    return out


def question_features(
    info: QuestionInfo,
    candidates: Sequence[Candidate],
    passages: Sequence[Passage],
    missing_specifics: int,
    names_a_paper: bool,
    expansions: dict[str, str] | None = None,
    scope: Scope | None = None,
) -> np.ndarray:
    """The answerability model's input: the best candidates' features and the question's.

    ``candidates`` must carry their probabilities (the selection model's output).
    """
    ranked = sorted(candidates, key=lambda c: -c.probability)
    probs = [c.probability for c in ranked] + [0.0, 0.0, 0.0]
    best = ranked[0].row if ranked else {}
    focus = [t for t in info.focus if not t[0].isdigit()]
    top_terms: set[str] = set()
    for c in ranked[:3]:
        top_terms |= set(terms(c.text.replace("-", " "), expansions))
    passage_terms: set[str] = set()
    for p in passages:
        passage_terms |= set(terms(p.text.replace("-", " "), expansions))
    years = set((scope if scope is not None else question_scope(info.text)).years)
    stated = {y for p in passages for y in YEAR.findall(p.text)}
    row = {
        "best_probability": probs[0],
        "second_probability": probs[1],
        "mean_top3_probability": sum(probs[:3]) / 3,
        "best_cos_question": max((c.row["cos_question"] for c in ranked), default=0.0),
        "best_cos_focus": max((c.row["cos_focus"] for c in ranked), default=0.0),
        "best_coverage": max((c.row["coverage"] for c in ranked), default=0.0),
        "best_focus_share": best.get("focus_share", 0.0),
        "best_kind_present": best.get("kind_present", 0.0),
        "factual": float(info.factual),
        "best_year_conflict": best.get("year_conflict", 0.0),
        "best_cumulative_conflict": best.get("cumulative_conflict", 0.0),
        "missing_specifics": float(min(missing_specifics, 3)),
        "focus_missing_top3": (sum(t not in top_terms for t in focus) / len(focus))
        if focus
        else 0.0,
        "focus_missing_passages": (sum(t not in passage_terms for t in focus) / len(focus))
        if focus
        else 0.0,
        "year_missing": float(bool(years - stated)),
        "best_span_near_focus": best.get("span_near_focus", 0.0),
        "names_a_paper": float(names_a_paper),
    }
    return np.array([row[name] for name in QUESTION_FEATURES], np.float32)
