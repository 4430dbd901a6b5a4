"""Write an eval run as a folder people can read: report.md, results.json and PNG plots.

Plots use matplotlib's Agg backend (no display needed); the markdown embeds them by file name,
so the folder can be moved or attached as a whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .models import DEPTH, STAGES, TYPES, EvalReport, ItemResult, ModeRun
from .targets import targets_for

WORST = 10
_TITLES = {"second-domain": "second-domain targets", "everyday": "everyday-question targets"}
_ROWS: list[tuple[str, str, str]] = [  # (metric key, label, group)
    ("recall@1", "Recall@1", "retrieval"),
    ("recall@3", "Recall@3", "retrieval"),
    ("recall@5", "Recall@5", "retrieval"),
    ("recall@10", "Recall@10", "retrieval"),
    ("mrr@10", "MRR@10", "retrieval"),
    ("ndcg@10", "nDCG@10", "retrieval"),
    ("quote_recall@10", "Quote recall@10 (per quote)", "retrieval"),
    ("key_fact_recall", "Key-fact recall", "answers"),
    ("first_citation_key_fact_recall", "First-citation key-fact recall", "answers"),
    ("f1", "Token F1 (SQuAD)", "answers"),
    ("median_answer_words_factoid_numeric", "Median answer words (factoid + numeric)", "answers"),
    ("median_answer_words", "Median answer words (all answered)", "answers"),
    ("citation_precision", "Citation precision", "citations"),
    ("citation_recall", "Citation recall", "citations"),
    ("answerer_citation_precision", "Citation precision (answerer's own)", "citations"),
    ("answerer_citation_recall", "Citation recall (answerer's own)", "citations"),
    ("abstention_accuracy", "Abstention accuracy (unanswerable)", "abstention"),
    ("false_abstention_rate", "False-abstention rate (answerable)", "abstention"),
    ("balanced_abstention_accuracy", "Balanced abstention accuracy", "abstention"),
    ("exact_citation_share", "Citations that are exact quotes", "citations"),
    ("latency_p50", "Latency p50 per question", "latency"),
]
_TYPE_COLS = [
    ("recall@5", "R@5"),
    ("recall@10", "R@10"),
    ("mrr@10", "MRR@10"),
    ("ndcg@10", "nDCG@10"),
    ("key_fact_recall", "key facts"),
    ("first_citation_key_fact_recall", "1st cit. key facts"),
    ("f1", "F1"),
    ("citation_precision", "cit. P"),
    ("citation_recall", "cit. R"),
    ("abstention_accuracy", "abst. acc"),
    ("false_abstention_rate", "false abst."),
]
_BAR_METRICS = [
    ("recall@5", "Recall@5"),
    ("ndcg@10", "nDCG@10"),
    ("key_fact_recall", "key-fact recall"),
    ("f1", "F1"),
    ("citation_precision", "citation precision"),
    ("abstention_accuracy", "abstention accuracy"),
]


def write_report(report: EvalReport, out: Path) -> list[Path]:
    """Write report.md, results.json and the plots into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.json"
    results.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    plots = write_plots(report, out)
    md = out / "report.md"
    md.write_text(render_markdown(report, [p.name for p in plots]), encoding="utf-8")
    return [md, results, *plots]


# -- markdown ------------------------------------------------------------------------------


def render_markdown(report: EvalReport, plots: Sequence[str] = ()) -> str:
    parts = [
        _header(report),
        _targets(report),
        _splits(report),
        _overall(report),
        _latency(report),
        _by_type(report),
        _by_type_modes(report),
        _worst(report),
        _calibration(report),
        _plots(plots),
        _notes(report),
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _fmt(value: object, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _metric(key: str, value: float | None) -> object:
    """A summary figure as shown: word counts whole, latency in ms, the rest as they are."""
    if value is None:
        return None
    if key.startswith("median_answer_words"):
        return f"{value:.0f}"
    if key == "latency_p50":
        return f"{value * 1000:.0f} ms"
    return value


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _header(report: EvalReport) -> str:
    c, idx = report.config, report.index
    types = ", ".join(f"{t} {n}" for t, n in report.types.items())
    splits = ", ".join(report.splits) or "pooled (no split)"
    corpus = f"`{report.corpus}` (its own index, no bundled catalog)" if report.corpus else "papers"
    rows = [
        ("gold set", f"`{report.qa}`: {report.items} items ({types})"),
        ("corpus", corpus),
        ("splits reported", splits),
        ("modes", ", ".join(r.mode for r in report.runs) + f" (detail: {report.primary})"),
        (
            "answerer",
            f"{c.get('answerer')}"
            + (f" — {c['answerer_notice']}" if c.get("answerer_notice") else ""),
        ),
        ("passages to the answerer (top_k)", c.get("top_k")),
        ("abstain threshold", c.get("abstain_threshold")),
        ("ranking depth", f"{DEPTH} (a separate `retrieve(question, k={DEPTH})` call)"),
        ("index", f"{idx.get('model')}, {idx.get('chunks')} chunks, built {idx.get('built_at')}"),
        ("limit", c.get("limit") or "all items"),
    ]
    return f"# Evaluation report — {report.created}\n\n" + _table(("setting", "value"), rows)


def _overall(report: EvalReport) -> str:
    rows = [
        (group, label, *[_metric(key, r.overall.get(key)) for r in report.runs])
        for key, label, group in _ROWS
        if any(r.overall.get(key) is not None for r in report.runs)
    ]
    return "## Overall\n\n" + _table(("", "metric", *[r.mode for r in report.runs]), rows)


def _targets(report: EvalReport) -> str:
    """Targets next to the measured figures: per split reported, judged on the last (test)."""
    run = report.run()
    cols: list[str | None] = list(report.splits) or [None]
    judged = cols[-1]
    rows = []
    for t in targets_for(report.targets):
        values = [t.actual(run, sp) for sp in cols]
        ok = t.met(values[-1])
        met = "–" if ok is None else ("yes" if ok else "**no**")
        rows.append((t.label, t.goal_text, *[_metric(t.key, v) for v in values], met))
    names = [sp or "all items" for sp in cols]
    title = _TITLES.get(report.targets, "targets")
    return (
        f"## Issue 22 {title} vs actual ({run.mode}; met? on {judged or 'all items'})\n\n"
        + _table(("figure", "target", *names, "met?"), rows)
    )


def _splits(report: EvalReport) -> str:
    """Every overall metric per split, and key-fact recall per type per split."""
    run = report.run()
    if not report.splits:
        return ""
    rows = [
        (
            label,
            *[_metric(key, run.by_split.get(sp, {}).get(key)) for sp in report.splits],
            _metric(key, run.overall.get(key)),
        )
        for key, label, _ in _ROWS
        if any(run.by_split.get(sp, {}).get(key) is not None for sp in report.splits)
    ]
    overall = f"## By split ({run.mode})\n\n" + _table(("metric", *report.splits, "all"), rows)
    types = [t for t in TYPES if any(t in run.by_split_type.get(sp, {}) for sp in report.splits)]
    per_type = [
        (
            t,
            *[_type_cell(run.by_split_type.get(sp, {}).get(t, {}), t) for sp in report.splits],
        )
        for t in types
    ]
    return (
        overall
        + "\n\n**By type and split** (key-fact recall, or abstention accuracy for unanswerable;"
        " n items)\n\n" + _table(("type", *report.splits), per_type) + _traps(run, report.splits)
    )


def _traps(run: ModeRun, splits: Sequence[str]) -> str:
    """Abstention accuracy per kind of trap (unanswerable items that carry one), per split."""
    traps = sorted({r.trap for r in run.items if r.trap and not r.answerable})
    if not traps:
        return ""
    rows = []
    for trap in traps:
        cells = []
        for sp in splits:
            items = [r for r in run.items if r.trap == trap and r.split == sp]
            right = sum(r.abstained for r in items)
            cells.append(f"{right}/{len(items)}" if items else "–")
        rows.append((trap, *cells))
    return "\n\n**Unanswerable items by trap** (abstained / items)\n\n" + _table(
        ("trap", *splits), rows
    )


def _type_cell(summary: dict[str, float | None], qtype: str) -> str:
    if not summary.get("items"):
        return "–"
    key = "abstention_accuracy" if qtype == "unanswerable" else "key_fact_recall"
    return f"{_fmt(summary.get(key))} (n={int(summary.get('items') or 0)})"


def _latency(report: EvalReport) -> str:
    rows = [
        (f"{stage} p{q}", *[r.latency.get(stage, {}).get(f"p{q}") for r in report.runs])
        for stage in STAGES
        for q in (50, 95)
    ]
    return "## Latency (seconds per question, from `Answer.timings`)\n\n" + _table(
        ("stage", *[r.mode for r in report.runs]), rows
    )


def _by_type(report: EvalReport) -> str:
    run = report.run()
    cols = [
        (k, label)
        for k, label in _TYPE_COLS
        if any(s.get(k) is not None for s in run.by_type.values())
    ]
    rows = [
        (t, int(run.by_type[t].get("items") or 0), *[run.by_type[t].get(k) for k, _ in cols])
        for t in TYPES
        if t in run.by_type
    ]
    return f"## By question type ({run.mode})\n\n" + _table(
        ("type", "n", *[c for _, c in cols]), rows
    )


def _by_type_modes(report: EvalReport) -> str:
    if len(report.runs) < 2:
        return ""
    out = ["## By question type, modes side by side"]
    for key, label in (
        ("ndcg@10", "nDCG@10"),
        ("recall@5", "Recall@5"),
        ("key_fact_recall", "Key-fact recall"),
    ):
        types = [t for t in TYPES if t != "unanswerable" and t in report.run().by_type]
        rows = [(t, *[r.by_type.get(t, {}).get(key) for r in report.runs]) for t in types]
        out.append(f"**{label}**\n\n" + _table(("type", *[r.mode for r in report.runs]), rows))
    return "\n\n".join(out)


# -- what went wrong -----------------------------------------------------------------------


def problems(item: ItemResult, top_k: int) -> list[str]:
    """Plain-language diagnosis of one item: retrieval, facts, abstention, citations."""
    out: list[str] = []
    conf = f" (confidence {item.confidence:.3f})" if item.confidence is not None else ""
    if item.error:
        out.append(f"error: {item.error}")
    if not item.answerable:
        return out + ([f"answered an unanswerable question{conf}"] if not item.abstained else [])
    if item.abstained:
        out.append(f"abstained on an answerable question{conf}")
    if item.unindexed_quotes:
        out.append(
            f"{len(item.unindexed_quotes)} evidence quote(s) not in any indexed chunk "
            "(e.g. the reference list, which is not indexed)"
        )
    missed = [r for r in item.unit_ranks if r is None]
    if missed:
        out.append(
            f"missed retrieval: {len(missed)} of {len(item.unit_ranks)} evidence unit(s) "
            f"not in the top {DEPTH}"
        )
    late = [r for r in item.unit_ranks if r is not None and r > top_k]
    if late:
        out.append(
            f"evidence ranked {', '.join(map(str, late))}: beyond the {top_k} passages "
            "the answerer reads"
        )
    if item.missing_facts and not item.abstained:
        out.append("missing key facts: " + "; ".join(f"“{f}”" for f in item.missing_facts))
    if (item.metrics.get("citation_precision") or 1.0) < 1.0:
        out.append(f"citation precision {item.metrics['citation_precision']:.2f}")
    return out


def badness(item: ItemResult) -> float:
    """Higher is worse: wrong abstentions, then missing facts and missed evidence."""
    if not item.answerable:
        return 0.0 if item.abstained else 2.0  # as bad as a complete miss on an answerable item
    kf = item.metrics.get("key_fact_recall") or 0.0
    recall = item.metrics.get("recall@10") or 0.0
    return (1 - kf) + (1 - recall) + 0.5 * item.abstained + (1 - (item.metrics.get("f1") or 0)) / 10


def worst_items(run: ModeRun, n: int = WORST) -> list[ItemResult]:
    return sorted(run.items, key=lambda r: -badness(r))[:n]


def _worst(report: EvalReport) -> str:
    run = report.run()
    top_k = report.config.get("top_k")
    top_k = top_k if isinstance(top_k, int) else DEPTH
    rows = []
    for r in worst_items(run):
        what = "<br>".join(problems(r, top_k)) or "low F1 only"
        rows.append((r.id, r.type, _cell(r.question), what, _cell(r.answer, 140)))
    worst = f"## The {WORST} worst items ({run.mode})\n\n" + _table(
        ("id", "type", "question", "what went wrong", "answer (start)"), rows
    )
    return worst + "\n\n" + _wrong_abstentions(run)


def _wrong_abstentions(run: ModeRun) -> str:
    """Every wrong abstention decision, the most confident mistakes first."""
    wrong = [r for r in run.items if r.answerable == r.abstained]
    wrong.sort(key=lambda r: (r.answerable, -(r.confidence or 0)))
    rows = [
        (
            r.id,
            "answered, unanswerable" if not r.answerable else "abstained, answerable",
            r.confidence,
            _cell(r.question),
            _cell(r.answer, 100),
        )
        for r in wrong
    ]
    head = f"### Wrong abstention decisions ({run.mode}): {len(wrong)}"
    if not rows:
        return head
    return head + "\n\n" + _table(("id", "mistake", "confidence", "question", "answer"), rows)


def _cell(text: str, limit: int | None = None) -> str:
    text = text.replace("\n", " ").replace("|", "/")
    if limit and len(text) > limit:
        return text[:limit] + "…"
    return text


# -- calibration ---------------------------------------------------------------------------


def _calibration(report: EvalReport) -> str:
    cal = report.calibration
    if cal is None:
        return ""
    best = cal.best
    head = (
        "## Calibration\n\n"
        "Chosen in three steps. **Mode**: " + cal.mode_reason + ". **k**: one never-abstaining "
        "run per k records every answer and its confidence (the best sentence score); the "
        "smallest k whose answers hold nearly the most key facts (within 0.01) wins. "
        "**Threshold**: a threshold t abstains where confidence < t, so the same runs give "
        "every t. *Combined* is the harmonic mean of abstention accuracy (unanswerable) and "
        "key-fact recall (answerable, abstentions 0), which punishes both always-answer and "
        "always-abstain; *credit* is the mean per question at the gold set's own mix (1 for "
        "an abstention on an unanswerable item, the key-fact recall of an answer). Among the "
        "thresholds within 0.01 of the best combined score, the one with the most credit wins. "
        "With "
        f"{_unanswerable(report)} unanswerable items the threshold is coarse: read it as a range."
        f'\n\n**Recommendation:** `retrieval.mode = "{best.mode}"`, `retrieval.top_k = {best.k}`,'
        f" `answer.abstain_threshold = {best.threshold}` — combined {_fmt(best.combined)}, "
        f"abstention accuracy {_fmt(best.abstention_accuracy)}, false-abstention rate "
        f"{_fmt(best.false_abstention_rate)}, key-fact recall {_fmt(best.key_fact_recall)}, "
        f"credit {_fmt(best.credit)}."
    )
    if cal.current is not None:
        c = cal.current
        head += (
            f"\n\nCurrent settings ({c.mode}, k={c.k}, threshold {c.threshold}): combined "
            f"{_fmt(c.combined)}, abstention accuracy {_fmt(c.abstention_accuracy)}, "
            f"false-abstention rate {_fmt(c.false_abstention_rate)}, key-fact recall "
            f"{_fmt(c.key_fact_recall)}, credit {_fmt(c.credit)}."
        )
    ks = _table(
        ("k", "key facts (answering all)", "confidence AUROC (answerable vs not)"),
        [(s.k, s.key_fact_recall, s.auroc) for s in cal.ks],
    )
    return "\n\n".join([head, f"**k ({cal.mode})**\n\n" + ks, _sweep(report)])


def _unanswerable(report: EvalReport) -> int:
    return report.types.get("unanswerable", 0)


def _sweep(report: EvalReport) -> str:
    assert report.calibration is not None
    best = report.calibration.best
    points = [p for p in report.calibration.points if p.k == best.k]
    rows = [
        (
            p.threshold,
            p.abstention_accuracy,
            p.false_abstention_rate,
            p.balanced_accuracy,
            p.key_fact_recall,
            p.combined,
            p.credit,
        )
        for p in points
    ]
    return f"**Threshold sweep ({best.mode}, k={best.k})**\n\n" + _table(
        ("threshold", "abst. acc", "false abst.", "balanced", "key facts", "combined", "credit"),
        rows,
    )


def _plots(names: Sequence[str]) -> str:
    if not names:
        return ""
    return "## Plots\n\n" + "\n\n".join(f"![{n}]({n})" for n in names)


def _notes(report: EvalReport) -> str:
    unindexed = {r.id for run in report.runs for r in run.items if r.unindexed_quotes}
    return (
        "## How the numbers are made\n\n"
        "- **Relevance**: a passage holds a gold quote when, after normalisation (NFKC, straight "
        "quotes, line-break hyphenation undone, whitespace collapsed, lower case), it contains "
        "the quote, or rapidfuzz partial_ratio ≥ 90, or ≥ 60% of the quote's tokens appear in "
        "order; a quote split across two chunks counts for the chunks holding its largest share. "
        "Evidence citing an alias (000) is found in its canonical copy (001); a passage listing "
        "another version (002 in 004's `versions`) counts for it.\n"
        "- **Evidence units**: quotes of one item that share a chunk form one unit, so ranx "
        "(Recall@k, MRR@10, nDCG@10) counts each piece of evidence once however many "
        "overlapping chunks hold it. *Quote recall@10* is the stricter per-quote share.\n"
        "- **Answers**: key-fact recall = share of key facts stated word for word (normalised); "
        "F1 = SQuAD token F1 against the reference answer; an abstention scores 0 on answerable "
        "items and F1 = 1 on unanswerable ones. *First-citation key-fact recall* = share of key "
        "facts stated in the quotes of the answer's first marker alone (every citation with "
        "that marker, quotes joined): does the first source a reader opens hold the answer?\n"
        "- **Citations** (answered, answerable items; ALCE-style, lexical): a marker supports its "
        "sentence when one of its quotes holds the sentence and overlaps a gold quote or states a "
        "key fact. Precision = supporting markers / markers; recall = sentences with a "
        "supporting marker / sentences. Lines ending in ':' introduce lists and are not claims.\n"
        "- **Abstention**: accuracy = unanswerable items abstained on; false-abstention rate = "
        "answerable items abstained on.\n"
        "- **Latency** is `Answer.timings` as a user sees it, embedding cache included: a rerun "
        "of the same questions finds their embeddings cached and runs faster than the first.\n"
        "- Items with evidence outside the index (reference lists): "
        f"{', '.join(sorted(unindexed)) or 'none'}."
    )


# -- plots ---------------------------------------------------------------------------------


def write_plots(report: EvalReport, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = [
        _plot_recall(report, out / "recall_at_k.png", plt),
        _plot_types(report, out / "metrics_by_type.png", plt),
        _plot_latency(report, out / "latency.png", plt),
    ]
    if report.calibration is not None:
        paths.append(_plot_calibration(report, out / "calibration.png", plt))
    return paths


def _plot_recall(report: EvalReport, path: Path, plt) -> Path:  # type: ignore[no-untyped-def]
    fig, ax = plt.subplots(figsize=(6, 4))
    for run in report.runs:
        ks = sorted(int(k) for k in run.recall_curve)
        ax.plot(ks, [run.recall_curve[k] or 0 for k in ks], marker="o", label=run.mode)
    ax.set(
        xlabel="k (passages)",
        ylabel="Recall@k (evidence units)",
        ylim=(0, 1.02),
        title="Recall@k by retrieval mode",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path, plt)


def _plot_types(report: EvalReport, path: Path, plt) -> Path:  # type: ignore[no-untyped-def]
    run = report.run()
    types = [t for t in TYPES if t in run.by_type]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / len(_BAR_METRICS)
    for j, (key, label) in enumerate(_BAR_METRICS):
        values = [run.by_type[t].get(key) or 0.0 for t in types]
        ax.bar([i + j * width for i in range(len(types))], values, width, label=label)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(types))], types)
    ax.set(ylim=(0, 1.05), ylabel="score", title=f"Metrics by question type ({run.mode})")
    ax.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    return _save(fig, path, plt)


def _plot_latency(report: EvalReport, path: Path, plt) -> Path:  # type: ignore[no-untyped-def]
    fig, axes = plt.subplots(1, len(STAGES), figsize=(12, 3.5))
    for ax, stage in zip(axes, STAGES, strict=True):
        for run in report.runs:
            values = [r.timings[stage] * 1000 for r in run.items if stage in r.timings]
            if values:
                ax.hist(values, bins=20, alpha=0.5, label=run.mode)
        ax.set(title=stage, xlabel="ms per question", ylabel="questions")
    axes[0].legend()
    return _save(fig, path, plt)


def _plot_calibration(report: EvalReport, path: Path, plt) -> Path:  # type: ignore[no-untyped-def]
    cal = report.calibration
    assert cal is not None
    best = cal.best
    points = [p for p in cal.points if (p.mode, p.k) == (best.mode, best.k)]
    fig, (ax, hx) = plt.subplots(1, 2, figsize=(12, 4))
    xs = [p.threshold for p in points]
    for key, label in (
        ("abstention_accuracy", "abstention accuracy"),
        ("false_abstention_rate", "false-abstention rate"),
        ("key_fact_recall", "key-fact recall"),
        ("combined", "combined"),
        ("credit", "credit"),
    ):
        ax.plot(xs, [getattr(p, key) or 0 for p in points], marker=".", label=label)
    ax.axvline(best.threshold, color="k", ls="--", lw=1)
    ax.set(xlabel="abstain threshold", ylim=(0, 1.02), title=f"Sweep ({best.mode}, k={best.k})")
    ax.legend(fontsize=8)
    conf = cal.confidences.get(best.k, [])
    for ok, label in ((True, "answerable"), (False, "unanswerable")):
        values = [c for a, c in conf if a == ok and c is not None]
        if values:
            hx.hist(values, bins=20, alpha=0.6, label=label, density=True)
    hx.axvline(best.threshold, color="k", ls="--", lw=1)
    hx.set(xlabel="confidence (best sentence score)", title="Confidence by item kind")
    hx.legend(fontsize=8)
    return _save(fig, path, plt)


def _save(fig, path: Path, plt) -> Path:  # type: ignore[no-untyped-def]
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
