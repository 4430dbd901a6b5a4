"""Train the extractive reader's two models on the dev splits and write their weights as JSON.

    python -m assistant.evaluation.train_reader [--qa FILE ...] [--out PATH] [--folds 5]

For every dev question the assistant retrieves as it does when asked; each sentence of those
passages becomes a candidate with the features of ``answering/features.py``, labelled 1 when
it overlaps a gold evidence quote or states all of the item's key facts. A logistic regression
learns which sentences answer (selection); grouped cross-validation by question gives each
question out-of-fold sentence probabilities, from which a second logistic regression learns
whether the question is answerable from what was retrieved (answerability). The decline
threshold is the one that balances abstention accuracy and false abstention best on the
out-of-fold answerability probabilities, so nothing is chosen on the data that fitted it.
Test splits are never read. scikit-learn is needed here only, not to answer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..answering.base import AnswerContext, abstention
from ..answering.extractive import ExtractiveAnswerer
from ..answering.factory import LATE_MODEL_FILE, reader_settings
from ..answering.features import QUESTION_FEATURES, SENTENCE_FEATURES, Candidate
from ..answering.scorer import MODEL_FILE, LogisticModel, ReaderModel
from ..core import Assistant
from ..retrieval.query import analyse
from ..settings import Settings
from ..types import Answer, Passage
from . import metrics as m
from .harness import load_gold
from .models import GoldItem

REPO = Path(__file__).resolve().parents[2]
DEFAULT_QA = (REPO / "eval" / "gold_qa.jsonl", REPO / "eval" / "everyday_qa.jsonl")
SELECTION_BALANCED = False  # pointwise selection: natural rates, so the top does not saturate
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "answering" / MODEL_FILE


@dataclass
class Example:
    """One question's candidates, features and labels."""

    item: GoldItem
    source: str
    candidates: list[Candidate]
    features: np.ndarray
    labels: np.ndarray
    passages: list[Passage] = field(default_factory=list)
    ctx: AnswerContext | None = None


class _Recorder:
    """Stands in for the answerer during ``ask``: keeps what it was given, answers nothing."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: tuple[str, list[Passage], AnswerContext] | None = None

    def answer(
        self, question: str, passages: list[Passage], ctx: AnswerContext, plan: object = None
    ) -> Answer:
        self.seen = (question, passages, ctx)
        return abstention(question, passages, self.name)

    def stream(self, question, passages, ctx, plan=None):  # type: ignore[no-untyped-def]
        yield self.answer(question, passages, ctx)


def label(c: Candidate, item: GoldItem) -> int:
    """Does the sentence answer the item: overlap a gold quote, or state every key fact?"""
    if any(m.quotes_overlap(c.text, ev.quote) for ev in item.quotes):
        return 1
    return int(bool(item.key_facts) and not m.missing_facts(item.key_facts, c.text))


def collect(bot: Assistant, reader: ExtractiveAnswerer, items: list[GoldItem], source: str):  # type: ignore[no-untyped-def]
    """Examples for ``items``, retrieved exactly as ``ask`` retrieves."""
    recorder = _Recorder()
    real, bot.answerer = bot.answerer, recorder  # type: ignore[assignment]
    out: list[Example] = []
    try:
        for item in items:
            recorder.seen = None
            bot.ask(item.question)
            if recorder.seen is None:
                continue  # declined before reading (no searchable words)
            question, passages, ctx = recorder.seen
            info = analyse(question, reader.lexicon)
            body = [p for p in passages if p.field is None]
            candidates = reader._candidates(body, ctx)
            if not candidates:
                continue
            features = reader.read(info, candidates, ctx)
            labels = np.array([label(c, item) for c in candidates], np.int8)
            out.append(Example(item, source, candidates, features, labels, passages, ctx))
    finally:
        bot.answerer = real
    return out


def _fit(x: np.ndarray, y: np.ndarray, c: float, balanced: bool = True) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=2000)
    model.fit(scaler.transform(x), y)
    return LogisticModel(
        features=(),
        mean=scaler.mean_.astype(np.float32),
        scale=np.where(scaler.scale_ == 0, 1.0, scaler.scale_).astype(np.float32),
        coef=model.coef_[0].astype(np.float32),
        intercept=float(model.intercept_[0]),
    )


def _fit_ranker(examples: list[Example], c: float) -> LogisticModel:
    """Selection trained to rank: a logistic regression on the differences between each
    question's answering and other sentences (RankNet's linear case), so it learns what makes
    one sentence of a question better than its neighbours rather than what makes sentences
    positive across questions; then Platt-scaled on the sentences themselves, so its output
    is a probability again."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x_all = np.concatenate([ex.features for ex in examples])
    scaler = StandardScaler().fit(x_all)
    scale = np.where(scaler.scale_ == 0, 1.0, scaler.scale_)
    diffs: list[np.ndarray] = []
    for ex in examples:
        pos, neg = ex.features[ex.labels == 1], ex.features[ex.labels == 0]
        if len(pos) and len(neg):
            d = (pos[:, None, :] - neg[None, :, :]).reshape(-1, pos.shape[1]) / scale
            diffs.append(d / len(d) ** 0.5)  # each question weighs about the same
    d = np.concatenate(diffs)
    ranker = LogisticRegression(C=c, fit_intercept=False, max_iter=2000)
    ranker.fit(np.concatenate([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    w = ranker.coef_[0]
    scores = (scaler.transform(x_all) @ w)[:, None]
    platt = LogisticRegression(C=100.0, max_iter=2000)
    platt.fit(scores, np.concatenate([ex.labels for ex in examples]))
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    return LogisticModel(
        features=(),
        mean=scaler.mean_.astype(np.float32),
        scale=scale.astype(np.float32),
        coef=(a * w).astype(np.float32),
        intercept=b,
    )


def _fit_selection(examples: list[Example], c: float, ranker: bool = True) -> LogisticModel:
    if ranker:
        return _fit_ranker(examples, c)
    x = np.concatenate([ex.features for ex in examples])
    y = np.concatenate([ex.labels for ex in examples])
    return _fit(x, y, c, SELECTION_BALANCED)


def _named(model: LogisticModel, names: tuple[str, ...]) -> LogisticModel:
    return LogisticModel(names, model.mean, model.scale, model.coef, model.intercept)


def _question_rows(
    reader: ExtractiveAnswerer, examples: list[Example], probabilities: list[np.ndarray]
) -> np.ndarray:
    rows = []
    for ex, probs in zip(examples, probabilities, strict=True):
        for c, p in zip(ex.candidates, probs, strict=True):
            c.probability = float(p)
        info = analyse(ex.item.question, reader.lexicon)
        assert ex.ctx is not None
        rows.append(reader.question_row(info, ex.candidates, ex.passages, ex.ctx))
    return np.stack(rows)


def best_threshold(
    probs: np.ndarray, answerable: np.ndarray, max_false: float
) -> tuple[float, float]:
    """The threshold that declines the most unanswerable questions while declining at most
    ``max_false`` of the answerable ones, and the abstention accuracy it reaches.

    Declining an answerable question costs a user more than quoting a near miss they can
    check, so false abstention is the constraint and abstention accuracy the objective.
    """
    best = (0.0, 0.0)
    for t in np.unique(np.round(probs, 4)):
        declined = probs < t
        far = declined[answerable == 1].mean() if (answerable == 1).any() else 0.0
        if far > max_false + 1e-9:
            continue
        acc = declined[answerable == 0].mean() if (answerable == 0).any() else 1.0
        if acc > best[1] + 1e-9:
            best = (float(t), float(acc))
    return best


def threshold_curve(probs: np.ndarray, answerable: np.ndarray) -> list[dict[str, float]]:
    """Abstention accuracy and false abstention at a few thresholds (for the report)."""
    out = []
    for t in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        declined = probs < t
        out.append(
            {
                "threshold": t,
                "abstention_accuracy": round(float(declined[answerable == 0].mean()), 3),
                "false_abstention": round(float(declined[answerable == 1].mean()), 3),
            }
        )
    return out


def train(
    examples: list[Example],
    reader: ExtractiveAnswerer,
    folds: int,
    c: float,
    max_false: float,
    ranker: bool = True,
    repeats: int = 5,
) -> ReaderModel:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    groups = np.arange(len(examples))
    answerable_once = np.array([int(ex.item.answerable) for ex in examples])
    # answerable from what was retrieved: a gold answer and a candidate that holds it
    reachable_once = np.array(
        [int(ex.item.answerable and bool(ex.labels.any())) for ex in examples], np.int8
    )
    keep_once = np.array([not ex.item.answerable or bool(ex.labels.any()) for ex in examples])
    rows: list[np.ndarray] = []
    q_oofs: list[np.ndarray] = []
    top1: list[bool] = []
    for repeat in range(repeats):  # repeated CV: a threshold that does not hang on one split
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=repeat)
        oof: list[np.ndarray] = [np.zeros(0)] * len(examples)
        for fit_idx, held_idx in splitter.split(groups, answerable_once):
            model = _fit_selection([examples[i] for i in fit_idx], c, ranker)
            for i in held_idx:
                oof[i] = model.probabilities(examples[i].features)
        q_rows = _question_rows(reader, examples, oof)
        q_oof = np.zeros(len(examples))
        for fit_idx, held_idx in splitter.split(groups, answerable_once):
            fit_idx = fit_idx[keep_once[fit_idx]]
            qm = _fit(q_rows[fit_idx], reachable_once[fit_idx], c)
            q_oof[held_idx] = qm.probabilities(q_rows[held_idx])
        rows.append(q_rows)
        q_oofs.append(q_oof)
        top1 += [
            bool(ex.labels[int(np.argmax(p))])
            for ex, p in zip(examples, oof, strict=True)
            if ex.labels.any()
        ]
    q_oof = np.concatenate(q_oofs)
    answerable = np.tile(answerable_once, repeats)
    threshold, accuracy = best_threshold(q_oof, answerable, max_false)
    selection = _named(_fit_selection(examples, c, ranker), SENTENCE_FEATURES)
    # fitted on the out-of-fold rows: new questions' probabilities look like those, not like
    # the training questions' own
    keep = np.tile(keep_once, repeats)
    answerability = _named(
        _fit(np.concatenate(rows)[keep], np.tile(reachable_once, repeats)[keep], c),
        QUESTION_FEATURES,
    )
    curve = threshold_curve(q_oof, answerable)
    meta = {
        "trained": dt.date.today().isoformat(),
        "command": "python -m assistant.evaluation.train_reader",
        "questions": len(examples),
        "by_source": {
            s: sum(ex.source == s for ex in examples)
            for s in sorted({ex.source for ex in examples})
        },
        "candidates": int(sum(len(ex.candidates) for ex in examples)),
        "positive_candidates": int(sum(int(ex.labels.sum()) for ex in examples)),
        "cv_folds": folds,
        "cv_repeats": repeats,
        "cv_top1_holds_answer": round(float(np.mean(top1)), 4) if top1 else None,
        "cv_answerability_auc": round(float(roc_auc_score(answerable, q_oof)), 4)
        if 0 < answerable.sum() < len(answerable)
        else None,
        "max_false_abstention": max_false,
        "cv_abstention_accuracy_at_threshold": round(accuracy, 4),
        "regularisation_C": c,
        "selection": "pairwise ranker, Platt-scaled" if ranker else "pointwise",
        "cv_curve": curve,
    }
    return ReaderModel(selection, answerability, threshold, meta)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qa", type=Path, action="append", help="gold sets (default: both)")
    parser.add_argument("--split", default="dev", choices=["dev"], help="only dev is trained on")
    parser.add_argument(
        "--out", type=Path, help="default: the shipped model for the sentence vectors in use"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--C", type=float, default=0.2, dest="c")
    parser.add_argument(
        "--max-false-abstention",
        type=float,
        # .05, not the gold target's .08: at .08 the pooled constraint held but the everyday
        # dev set's own false abstention was .136, over its .10 target
        default=0.05,
        help="the threshold declines at most this share of answerable dev questions (CV)",
    )
    parser.add_argument(
        "--pointwise", action="store_true", help="selection as plain classification (compare)"
    )
    args = parser.parse_args(argv)
    settings = Settings()
    late = settings.embedding.sentence_vectors == "late"
    out = args.out or DEFAULT_OUT.with_name(LATE_MODEL_FILE if late else MODEL_FILE)
    bot = Assistant.load(settings)
    reader = ExtractiveAnswerer(bot.embedder, reader_settings(settings), bot.lexicon)
    examples: list[Example] = []
    for path in args.qa or [p for p in DEFAULT_QA if p.exists()]:
        items = [i for i in load_gold(path) if i.split == args.split]
        examples += collect(bot, reader, items, path.name)
    model = train(
        examples, reader, args.folds, args.c, args.max_false_abstention, not args.pointwise
    )
    model.save(out)
    print(json.dumps(model.meta, indent=1))
    print(f"threshold {model.threshold:.4f}; wrote {out}")


if __name__ == "__main__":
    main()
