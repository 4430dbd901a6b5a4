"""The harness behind ``assistant eval``: ask every gold question, score it, compare, calibrate.

One index load: each retrieval mode runs on ``Assistant.with_settings`` of the same index and
model. Per item, the ranking metrics come from a separate ``retrieve(question, k=10)`` call,
the answer metrics from ``ask(question)`` as a user would get it.

>>> report, out = evaluate(EvalConfig(compare=["dense", "bm25", "hybrid"], limit=20))
>>> report.runs[0].overall["ndcg@10"], out / "report.md"
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..chunking import embed_text
from ..core import Assistant
from ..errors import AssistantError, IndexIncompatibleError
from ..settings import RetrievalMode, Settings
from ..stats import percentiles
from ..types import Answer, Citation, Passage
from . import metrics as m
from .calibration import abstain_threshold, calibrate
from .models import (
    DEPTH,
    SPLITS,
    STAGES,
    TYPES,
    Calibration,
    EvalReport,
    GoldItem,
    ItemResult,
    ModeRun,
)
from .targets import kind_for

MODES: tuple[RetrievalMode, ...] = ("dense", "bm25", "hybrid")
# Relative to the working folder: the checkout's eval/ when run from its root (`make eval`).
DEFAULT_QA = Path("eval") / "gold_qa.jsonl"
DEFAULT_REPORTS = Path("eval") / "reports"
Progress = Callable[[str, int, int], None]
SplitChoice = Literal["both", "dev", "test", "all"]
SHORT_TYPES = ("factoid", "numeric")  # answer-length target: the clause, not a paragraph


class EvalConfig(BaseModel):
    """What one ``assistant eval`` run does; None means "as the Settings say"."""

    model_config = ConfigDict(extra="forbid")

    qa: Path = Field(DEFAULT_QA, description="Gold QA file (JSON lines).")
    mode: RetrievalMode | None = Field(None, description="The mode reported in detail.")
    compare: list[RetrievalMode] = Field(default_factory=list, description="Modes side by side.")
    answerer: str | None = Field(None, description="Settings.answer.answerer override.")
    k: int | None = Field(None, ge=1, le=100, description="Passages the answerer gets.")
    limit: int | None = Field(None, ge=1, description="Items, sampled across question types.")
    out: Path | None = Field(None, description="Report folder; default eval/reports/<time>/.")
    calibrate: bool = Field(False, description="Sweep abstain threshold, mode and k.")
    thresholds: list[float] = Field(
        default_factory=lambda: [round(0.25 + 0.025 * i, 3) for i in range(21)],
        description="abstain_threshold grid for --calibrate.",
    )
    k_grid: list[int] = Field(default_factory=lambda: [3, 4, 6, 8, 10], description="top_k grid.")
    split: SplitChoice = Field(
        "both",
        description="both: every item, dev and test reported side by side; dev or test: only "
        "that split's items; all: every item, pooled",
    )
    corpus: Path | None = Field(
        None,
        description="A JSON-lines corpus ({_id, title, text} per line) to answer over instead "
        "of the papers: indexed once under the cache dir, reused on re-runs",
    )

    def settings(self, base: Settings) -> Settings:
        """``base`` with this run's overrides; a bad value says which option to fix."""
        retrieval: dict[str, object] = {"mode": self.mode} if self.mode else {}
        if self.k:
            retrieval["top_k"] = self.k
        answer: dict[str, object] = {"answerer": self.answerer} if self.answerer else {}
        try:
            return base.with_updates(retrieval=retrieval, answer=answer)
        except ValidationError as e:
            raise AssistantError(
                f"--answerer {self.answerer!r} is not valid: {_first_error(e)}"
            ) from e

    def modes(self, settings: Settings) -> list[RetrievalMode]:
        primary = self.mode or settings.retrieval.mode
        return list(dict.fromkeys([primary, *self.compare]))


# -- gold set ------------------------------------------------------------------------------


def load_gold(path: Path) -> list[GoldItem]:
    """Read a gold QA file; a bad line is reported with its number and what is wrong."""
    if not path.is_file():
        raise AssistantError(f"no gold QA file at {path}: pass --qa PATH to a JSON-lines file")
    items: list[GoldItem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(GoldItem.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as e:
            why = _first_error(e) if isinstance(e, ValidationError) else str(e)
            raise AssistantError(
                f"{path}:{n}: not a gold QA item ({why}); see eval/validate.py"
            ) from e
    if not items:
        raise AssistantError(f"{path} holds no items: one JSON object per line expected")
    return items


def in_split(items: Sequence[GoldItem], split: SplitChoice) -> list[GoldItem]:
    """The items a run covers: one split's, or all of them (``both`` and ``all``)."""
    if split in ("both", "all"):
        return list(items)
    picked = [i for i in items if i.split == split]
    if not picked:
        raise AssistantError(
            f"no item has split {split!r}: run python eval/split.py on the QA file, "
            "or pass --split all"
        )
    return picked


def select(items: Sequence[GoldItem], limit: int | None) -> list[GoldItem]:
    """``limit`` items taken round-robin over question types, so a slice covers them all."""
    if limit is None or limit >= len(items):
        return list(items)
    queues = {t: [i for i in items if i.type == t] for t in dict.fromkeys(i.type for i in items)}
    picked: list[GoldItem] = []
    while len(picked) < limit:
        for queue in queues.values():
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    order = {item.id: n for n, item in enumerate(items)}
    return sorted(picked, key=lambda i: order[i.id])


# -- one run -------------------------------------------------------------------------------


class _Gold:
    """The gold items with their evidence located in the index's chunks (done once)."""

    def __init__(self, bot: Assistant, items: Sequence[GoldItem]) -> None:
        self.items = list(items)
        self.links = m.DocLinks({d.doc_id: d.alias_of for d in bot.documents()})
        chunks = [
            (c.chunk_id, c.doc_id, embed_text(c.section, c.text)) for c in bot.snapshot.chunks
        ]
        self.units = {
            i.id: m.evidence_units(i.quotes, chunks, self.links) for i in items if i.answerable
        }


def run_mode(
    bot: Assistant, gold: _Gold, mode: RetrievalMode, progress: Progress | None = None
) -> ModeRun:
    """Retrieve (k=10) and answer every item in one mode, then score the lot."""
    results: list[ItemResult] = []
    for n, item in enumerate(gold.items):
        if progress:
            progress(mode, n, len(gold.items))
        results.append(_run_item(bot, gold, item, mode))
    if progress:
        progress(mode, len(gold.items), len(gold.items))
    curve = _add_ranking(results, gold)
    settings: dict[str, object] = {
        "retrieval": bot.settings.retrieval.model_dump(),
        "answer": bot.settings.answer.model_dump(),
    }
    return ModeRun(
        mode=mode,
        settings=settings,
        items=results,
        overall=summarise(results),
        by_type=by_type(results),
        by_split={sp: summarise(rs) for sp, rs in _split_groups(results).items()},
        by_split_type={sp: by_type(rs) for sp, rs in _split_groups(results).items()},
        latency=latency(results),
        recall_curve=curve,
    )


def _run_item(bot: Assistant, gold: _Gold, item: GoldItem, mode: RetrievalMode) -> ItemResult:
    passages = bot.retrieve(item.question, k=DEPTH, mode=mode)
    ranks, unit_ranks = _ranks(gold, item, passages)
    result = ItemResult(
        id=item.id,
        type=item.type,
        split=item.split,
        trap=item.trap,
        question=item.question,
        mode=mode,
        retrieved=[p.chunk_id for p in passages],
        retrieved_docs=[p.doc_id for p in passages],
        quote_ranks=ranks,
        unit_ranks=unit_ranks,
        unindexed_quotes=gold.units[item.id].unindexed if item.answerable else [],
    )
    found = [r for r in ranks if r is not None]
    quote_recall = {"quote_recall@10": len(found) / len(ranks)} if ranks else {}
    try:
        answer = bot.ask(item.question)
    except AssistantError as e:  # counted as an abstention, reported with its reason
        result.error, result.abstained = str(e), True
        result.metrics = {**score_answer(item, None), **quote_recall}
        return result
    result.answer, result.abstained, result.confidence = (
        answer.text,
        answer.abstained,
        answer.confidence,
    )
    result.timings = {k: round(v, 4) for k, v in answer.timings.items()}
    result.citations = [_citation(bot, c) for c in answer.citations]
    if not answer.abstained:
        result.answer_words = len(m.strip_markers(answer.text).split())
    result.missing_facts = m.missing_facts(item.key_facts, "" if answer.abstained else answer.text)
    result.metrics = {**score_answer(item, answer), **quote_recall}
    return result


def _citation(bot: Assistant, c: Citation) -> dict[str, object]:
    """A citation as results.json keeps it; ``exact``: the quote is the paper's text there."""
    doc = bot.snapshot.documents.get(c.doc_id)
    exact = doc is not None and doc.clean_text[c.start : c.end] == c.quote
    return {
        "marker": c.marker,
        "doc_id": c.doc_id,
        "quote": c.quote,
        "start": c.start,
        "end": c.end,
        "exact": exact,
    }


def _ranks(
    gold: _Gold, item: GoldItem, passages: list[Passage]
) -> tuple[list[int | None], list[int | None]]:
    if not item.answerable:
        return [], []
    units = gold.units[item.id]
    held = [
        m.units_held(
            units,
            item.quotes,
            p.chunk_id,
            embed_text(p.section, p.text),
            p.doc_id,
            p.versions,
            gold.links,
        )
        for p in passages
    ]
    quote_ranks = m.evidence_ranks([q for q, _ in held], len(item.quotes))
    unit_ranks = m.evidence_ranks([u for _, u in held], units.n_units)
    return quote_ranks, unit_ranks


def _add_ranking(results: list[ItemResult], gold: _Gold) -> dict[int, float | None]:
    """ranx over all items at once; returns the mean recall@k curve for k = 1..10."""
    qrels = {
        i.id: {f"u{u}": 1 for u in range(gold.units[i.id].n_units)}
        for i in gold.items
        if i.answerable
    }
    runs = {r.id: _unit_run(r) for r in results if r.answerable}
    ks = list(range(1, DEPTH + 1))
    per_query = m.ranking_metrics(qrels, runs, ks=ks, depth=DEPTH)
    keep = {f"recall@{k}" for k in m.RANK_KS} | {f"mrr@{DEPTH}", f"ndcg@{DEPTH}"}
    for r in results:
        if r.id in per_query:
            r.metrics.update({k: v for k, v in per_query[r.id].items() if k in keep})
    return {k: m.mean(q[f"recall@{k}"] for q in per_query.values()) for k in ks}


def _unit_run(result: ItemResult) -> dict[str, float]:
    by_rank: dict[int, list[int]] = {}
    for unit, rank in enumerate(result.unit_ranks):
        if rank is not None:
            by_rank.setdefault(rank - 1, []).append(unit)
    return m.ranked_run([by_rank.get(r, []) for r in range(len(result.retrieved))])


def score_answer(item: GoldItem, answer: Answer | None) -> dict[str, float | None]:
    """Answer, citation and abstention metrics of one item (None: does not apply)."""
    abstained = answer is None or answer.abstained
    text = "" if abstained or answer is None else answer.text
    out: dict[str, float | None] = {"abstained": float(abstained)}
    if not item.answerable:
        out["abstention_correct"] = float(abstained)
        out["f1"] = float(abstained)  # SQuAD 2.0: no answer is right only when there is none
        return out
    out["key_fact_recall"] = m.key_fact_recall(item.key_facts, text)
    cited = [] if abstained or answer is None else [(c.marker, c.quote) for c in answer.citations]
    out["first_citation_key_fact_recall"] = m.first_citation_key_fact_recall(item.key_facts, cited)
    out["f1"] = m.token_f1(text, item.answer) if text else 0.0
    if answer is not None and not abstained:
        quotes: dict[int, list[str]] = {}
        for c in answer.citations:
            quotes.setdefault(c.marker, []).append(c.quote)
        precision, recall = m.citation_scores(text, quotes, item.quotes, item.key_facts)
        out["citation_precision"], out["citation_recall"] = precision, recall
        out["answerer_citation_precision"] = answer.citation_precision
        out["answerer_citation_recall"] = answer.citation_recall
    return out


# -- aggregation ---------------------------------------------------------------------------

SUMMARY_METRICS = (
    "recall@1",
    "recall@3",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    "quote_recall@10",
    "key_fact_recall",
    "first_citation_key_fact_recall",
    "f1",
    "citation_precision",
    "citation_recall",
    "answerer_citation_precision",
    "answerer_citation_recall",
)


def summarise(results: Sequence[ItemResult]) -> dict[str, float | None]:
    """Means of the per-item metrics, abstention rates, answer length, exact quotes, latency."""
    out = {k: m.mean(r.metrics.get(k) for r in results) for k in SUMMARY_METRICS}
    out.update(m.abstention_scores([r.answerable for r in results], [r.abstained for r in results]))
    answered = [r for r in results if r.answer_words is not None]
    out["median_answer_words"] = m.median(r.answer_words for r in answered)
    out["median_answer_words_factoid_numeric"] = m.median(
        r.answer_words for r in answered if r.type in SHORT_TYPES
    )
    cited = [bool(c.get("exact")) for r in results for c in r.citations]
    out["exact_citation_share"] = sum(cited) / len(cited) if cited else None
    totals = [r.timings["total"] for r in results if "total" in r.timings]
    out["latency_p50"] = percentiles(totals, (50,))["p50"]
    out["items"] = float(len(results))
    return out


def by_type(results: Sequence[ItemResult]) -> dict[str, dict[str, float | None]]:
    return {t: summarise([r for r in results if r.type == t]) for t in _types(results)}


def _split_groups(results: Sequence[ItemResult]) -> dict[str, list[ItemResult]]:
    """Results per split, in SPLITS order; items without a split are in none."""
    groups = {sp: [r for r in results if r.split == sp] for sp in SPLITS}
    return {sp: rs for sp, rs in groups.items() if rs}


def latency(results: Sequence[ItemResult]) -> dict[str, dict[str, float | None]]:
    return {s: percentiles([r.timings[s] for r in results if s in r.timings]) for s in STAGES}


def _types(results: Sequence[ItemResult]) -> list[str]:
    present = {r.type for r in results}
    return [t for t in TYPES if t in present]


# -- calibration ---------------------------------------------------------------------------


def choose_mode(runs: Sequence[ModeRun]) -> tuple[RetrievalMode, str]:
    """The compared mode with the best nDCG@10 (then key-fact recall), and why."""

    def key(run: ModeRun) -> tuple[float, float]:
        return round(run.overall.get("ndcg@10") or 0, 3), run.overall.get("key_fact_recall") or 0

    best = max(runs, key=key)
    others = ", ".join(
        f"{r.mode} {r.overall.get('ndcg@10') or 0:.3f}" for r in runs if r is not best
    )
    return best.mode, (
        f"highest nDCG@10 in the comparison ({best.overall.get('ndcg@10') or 0:.3f}; {others}), "
        f"key-fact recall {best.overall.get('key_fact_recall') or 0:.3f}"
    )


def evaluate(
    config: EvalConfig,
    settings: Settings | None = None,
    assistant: Assistant | None = None,
    progress: Progress | None = None,
) -> tuple[EvalReport, Path]:
    """Run the eval the config describes, write the report folder, return both."""
    from .report import write_report

    items = select(in_split(load_gold(config.qa), config.split), config.limit)
    base = config.settings(assistant.settings if assistant else settings or Settings())
    bot = _open(config, base, assistant, progress)
    base = bot.settings
    gold = _Gold(bot, items)
    modes = config.modes(base)
    if config.calibrate and not config.compare:
        modes = list(dict.fromkeys([*modes, *MODES]))
    runs = [
        run_mode(
            bot.with_settings(base.with_updates(retrieval={"mode": mode})), gold, mode, progress
        )
        for mode in modes
    ]
    calibration = None
    if config.calibrate:
        mode, why = choose_mode(runs)
        calibration = calibrate(
            bot, gold, mode, config.k_grid, config.thresholds, progress, mode_reason=why
        )
    report = _make_report(config, bot, items, modes[0], runs, calibration)
    out = config.out or default_out()
    write_report(report, out)
    return report, out


def _open(
    config: EvalConfig, base: Settings, assistant: Assistant | None, progress: Progress | None
) -> Assistant:
    """The assistant to question: over the papers, or over ``config.corpus`` (built once)."""
    if config.corpus is None:
        return assistant.with_settings(base) if assistant else Assistant.load(base)
    from .corpora import prepare_corpus

    settings = prepare_corpus(config.corpus, base, progress)
    embedder = assistant.embedder if assistant else None
    try:
        bot = Assistant.load(settings, embedder=embedder, progress=progress)
    except IndexIncompatibleError:  # the harness's own index, from an older version: rebuild
        from ..ingest import ingest

        ingest(settings=settings, embedder=embedder, progress=progress, rebuild=True)
        bot = Assistant.load(settings, embedder=embedder, progress=progress)
    if bot.status().stale:  # e.g. chunking settings changed since the index was built
        bot.reindex(progress=progress)
    return bot


def default_out(suffix: str = "") -> Path:
    """eval/reports/<timestamp><suffix>/ (git-ignored)."""
    return DEFAULT_REPORTS / (time.strftime("%Y%m%d-%H%M%S") + suffix)


def _make_report(
    config: EvalConfig,
    bot: Assistant,
    items: list[GoldItem],
    primary: str,
    runs: list[ModeRun],
    calibration: Calibration | None,
) -> EvalReport:
    manifest = bot.snapshot.manifest
    counts = {t: sum(1 for i in items if i.type == t) for t in TYPES}
    return EvalReport(
        created=time.strftime("%Y-%m-%d %H:%M:%S"),
        qa=str(config.qa),
        items=len(items),
        types={t: n for t, n in counts.items() if n},
        primary=primary,
        config={
            **config.model_dump(mode="json", exclude={"thresholds", "k_grid"}),
            "answerer": bot.answerer.name,
            "top_k": bot.settings.retrieval.top_k,
            "abstain_threshold": abstain_threshold(bot),
            "answerer_notice": bot.answerer_notice,
        },
        index={
            "path": str(bot.snapshot.path),
            "model": manifest.embedding.model if manifest else None,
            "chunks": manifest.chunk_count if manifest else None,
            "built_at": manifest.built_at if manifest else None,
        },
        runs=runs,
        calibration=calibration,
        splits=_reported_splits(config.split, items),
        corpus=str(config.corpus) if config.corpus else None,
        targets=kind_for(config.qa, config.corpus),
    )


def _reported_splits(choice: SplitChoice, items: Sequence[GoldItem]) -> list[str]:
    present = {i.split for i in items}
    if choice == "all":
        return []
    return [sp for sp in SPLITS if sp in present and choice in ("both", sp)]


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg')}" if where else str(err.get("msg"))
