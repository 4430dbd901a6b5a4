"""The data of an evaluation: gold items (the schema eval/validate.py checks) and results.

Kept apart from the harness so that the report, the validator and tests read these models
without importing the code that produces them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..settings import RetrievalMode
from . import metrics as m

QuestionType = Literal["factoid", "numeric", "list", "why/how", "comparison", "unanswerable"]
Split = Literal["dev", "test"]
TYPES: tuple[str, ...] = ("factoid", "numeric", "list", "why/how", "comparison", "unanswerable")
SPLITS: tuple[str, ...] = ("dev", "test")
STAGES = ("retrieve", "answer", "total")
DEPTH = 10  # passages ranked per question for the ranking metrics


class GoldEvidence(BaseModel):
    doc: str = Field(description="The paper's doc id: a corpus file name, e.g. 001_….txt")
    quote: str = Field(description="An exact substring of that file, without line breaks")


class GoldItem(BaseModel):
    """One line of a gold QA file (see ARCHITECTURE.md, "Gold QA item").

    Field types are checked on parsing; :meth:`problems` lists the rules that tie fields
    together. Whether quotes occur in the papers needs the corpus: eval/validate.py checks it.
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    question: str
    answer: str
    evidence: list[GoldEvidence]
    type: QuestionType
    key_facts: list[str]
    split: Split | None = Field(
        None, description="dev: tune on it; test: report it (eval/split.py assigns it)"
    )
    trap: str | None = Field(
        None, description="unanswerable items: why it sounds answerable (e.g. wrong-year)"
    )

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"

    @property
    def quotes(self) -> list[m.Evidence]:
        return [m.Evidence(e.doc, e.quote) for e in self.evidence]

    def problems(self) -> list[str]:
        """Broken rules, one line each (empty: consistent); the corpus is not consulted."""
        out = [f"field '{f}' is empty" for f in ("id", "question") if not getattr(self, f).strip()]
        for i, ev in enumerate(self.evidence):
            if not ev.doc:
                out.append(f"evidence[{i}]: 'doc' must be a non-empty string")
            if not ev.quote.strip():
                out.append(f"evidence[{i}]: 'quote' must be a non-empty string")
            elif "\n" in ev.quote or "\r" in ev.quote:
                out.append(f"evidence[{i}]: quote contains a line break")
        if not self.answerable:
            if self.evidence:
                out.append("unanswerable item must have no evidence")
            if self.key_facts:
                out.append("unanswerable item must have no key facts")
            return out
        if not self.answer.strip():
            out.append("answerable item has an empty answer")
        if not self.evidence:
            out.append("answerable item has no evidence")
        if not self.key_facts:
            out.append("answerable item has no key facts")
        quotes = [_collapse(e.quote) for e in self.evidence]
        for k, fact in enumerate(self.key_facts):
            if not fact.strip():
                out.append(f"key_facts[{k}]: must be a non-empty string")
            elif not any(_collapse(fact) in q for q in quotes):
                out.append(f"key fact {fact!r} occurs in none of its evidence quotes")
        return out


def _collapse(text: str) -> str:
    """Lower case, whitespace runs as one space: how a key fact is found in a quote."""
    return " ".join(text.split()).lower()


class ItemResult(BaseModel):
    """Everything measured on one gold item in one mode (a row of results.json)."""

    id: str
    type: str
    split: str | None = None
    trap: str | None = None
    question: str
    mode: str
    retrieved: list[str] = Field(description="chunk ids, ranked (the k=depth retrieve call)")
    retrieved_docs: list[str]
    quote_ranks: list[int | None] = Field(description="rank of the first passage per quote")
    unit_ranks: list[int | None] = Field(description="rank per evidence unit (ranx's view)")
    unindexed_quotes: list[int] = Field(default_factory=list)
    metrics: dict[str, float | None] = Field(default_factory=dict)
    answer: str = ""
    abstained: bool = False
    confidence: float | None = None
    citations: list[dict[str, object]] = Field(
        default_factory=list, description="marker, doc_id, quote, start, end, exact"
    )
    answer_words: int | None = Field(None, description="words in the answer, markers left out")
    missing_facts: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)
    error: str | None = None

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


class ModeRun(BaseModel):
    mode: RetrievalMode
    settings: dict[str, object]
    items: list[ItemResult]
    overall: dict[str, float | None] = Field(default_factory=dict)
    by_type: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    by_split: dict[str, dict[str, float | None]] = Field(
        default_factory=dict, description="the overall summary over each split's items"
    )
    by_split_type: dict[str, dict[str, dict[str, float | None]]] = Field(default_factory=dict)
    latency: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    recall_curve: dict[int, float | None] = Field(default_factory=dict)


class CalibrationPoint(BaseModel):
    """The outcome of one abstain threshold for one mode and k."""

    mode: str
    k: int
    threshold: float
    abstention_accuracy: float | None
    false_abstention_rate: float | None
    balanced_accuracy: float | None
    key_fact_recall: float | None = Field(description="answerable items; abstentions score 0")
    combined: float | None = Field(
        description="harmonic mean of abstention accuracy and key-fact recall (F1-like: "
        "punishes both always-answer and always-abstain)"
    )
    credit: float | None = Field(
        description="mean per question at the gold set's mix: an unanswerable item scores 1 "
        "if abstained, an answerable one its key-fact recall"
    )


class KSummary(BaseModel):
    """What k does to answers before any abstention, and how well confidence separates."""

    k: int
    key_fact_recall: float | None = Field(description="answering every question")
    auroc: float | None = Field(description="confidence: answerable vs unanswerable")


class Calibration(BaseModel):
    mode: str
    mode_reason: str
    ks: list[KSummary]
    points: list[CalibrationPoint]
    best: CalibrationPoint
    current: CalibrationPoint | None = None
    confidences: dict[int, list[tuple[bool, float | None]]] = Field(
        default_factory=dict, description="k -> (answerable, confidence) per item"
    )


class EvalReport(BaseModel):
    created: str
    qa: str
    items: int
    types: dict[str, int]
    primary: str
    config: dict[str, object]
    index: dict[str, object]
    runs: list[ModeRun]
    calibration: Calibration | None = None
    splits: list[str] = Field(default_factory=list, description="splits reported side by side")
    corpus: str | None = Field(None, description="the JSON-lines corpus, when not the papers")
    targets: str = Field(
        "gold", description="which targets apply: gold | everyday | second-domain (targets.py)"
    )

    def run(self, mode: str | None = None) -> ModeRun:
        mode = mode or self.primary
        return next(r for r in self.runs if r.mode == mode)
