"""``assistant`` command line: each command parses options, calls the library, prints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import AssistantError
from .settings import RetrievalMode, Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
out = Console()
err = Console(stderr=True)


def _settings(mode: str | None = None, k: int | None = None) -> Settings:
    settings = Settings()
    updates: dict[str, object] = {}
    if mode:
        updates["mode"] = mode
    if k:
        updates["top_k"] = k
    return settings.with_updates(retrieval=updates) if updates else settings


def _fail(e: Exception) -> None:
    err.print(f"[bold red]error:[/] {e}", highlight=False)
    raise typer.Exit(1)


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files to add (default: corpus/).")
    ] = None,
    rebuild: Annotated[bool, typer.Option(help="Ignore the existing index and rebuild.")] = False,
    engine: Annotated[
        str | None, typer.Option(help="Embed here (local) or on Ray Data workers (ray).")
    ] = None,
) -> None:
    """Build or update the index (only new or changed papers are embedded)."""
    from .indexing import ingest as run_ingest

    if engine not in (None, "local", "ray"):
        raise typer.BadParameter(f"--engine {engine}: use local or ray")
    with Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            settings = _settings()
            if engine:
                settings = settings.with_updates(embedding={"engine": engine})
            report = run_ingest(
                paths or None, settings=settings, progress=progress, rebuild=rebuild
            )
        except AssistantError as e:
            _fail(e)
    for path, reason in report.errors.items():
        err.print(f"[yellow]skipped[/] {path}: {reason}", highlight=False)
    for path, existing in report.duplicates.items():
        err.print(f"[yellow]duplicate[/] {path}: same file as {existing}", highlight=False)
    for alias, canonical in report.aliases.items():
        out.print(f"alias      {alias} -> {canonical} (same paper, indexed once)", highlight=False)
    for members in report.versions.values():
        out.print(f"versions   {', '.join(members)}", highlight=False)
    out.print(
        f"{report.documents} docs ({len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed), "
        f"{len(report.aliases)} duplicates found, {report.chunks} chunks, {report.tokens} tokens, "
        f"{report.embedded} embedded, {report.seconds:.1f}s",
        highlight=False,
    )
    if report.errors and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(1)


@app.command("index-info")
def index_info(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show what the index holds and whether it is stale."""
    from .embeddings import SentenceTransformerEmbedder
    from .indexing import index_status
    from .store import load_snapshot

    settings = _settings()
    try:
        snap = load_snapshot(settings.paths.index_dir, settings.store)
    except AssistantError as e:
        _fail(e)
    status = index_status(snap, settings, SentenceTransformerEmbedder(settings.embedding).name)
    if as_json:
        out.print_json(
            json.dumps(
                {"manifest": snap.manifest, "stale": status.stale, "reasons": status.reasons}
            )
        )
        return
    m = snap.manifest
    out.print(f"index      {snap.path}", highlight=False)
    out.print(
        f"model      {m['embedding']['model']} ({m['embedding']['dimension']}-d)", highlight=False
    )
    out.print(
        f"chunks     {m['chunk_count']} ({m['index_type']}), built {m['built_at']}", highlight=False
    )
    table = Table("doc", "title", "chunks", "tokens", "links")
    for d in sorted(snap.documents.values(), key=lambda d: d.doc_id):
        links = (
            f"alias of {d.alias_of}"
            if d.alias_of
            else (f"versions: {d.version_group}" if d.version_group else "")
        )
        table.add_row(d.doc_id, d.title[:60], str(d.chunk_count), str(d.tokens), links)
    out.print(table)
    colour = "yellow" if status.stale else "green"
    out.print(f"[{colour}]{status.message}[/]", highlight=False)


def _print_answer(answer, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    if as_json:
        sys.stdout.write(answer.model_dump_json(indent=2) + "\n")
        return
    if answer.notice:
        err.print(f"[yellow]note:[/] {answer.notice}", highlight=False)
    out.print(answer.text, highlight=False)
    if answer.abstained and answer.passages:
        out.print("\n[dim]Closest passages:[/]")
        for p in answer.passages[:3]:
            out.print(f"  - {p.title} — {p.section}: {p.text[:160]}…", highlight=False)
    seen: set[int] = set()
    if answer.citations:
        out.print("\n[bold]Sources[/]")
    for c in answer.citations:
        if c.marker in seen:
            continue
        seen.add(c.marker)
        quotes = " … ".join(x.quote for x in answer.citations if x.marker == c.marker)
        out.print(
            f"[{c.marker}] {c.passage.title} ({c.doc_id}), {c.passage.section or 'front matter'}",
            highlight=False,
        )
        out.print(f"    “{quotes}”", highlight=False)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
    mode: Annotated[str | None, typer.Option(help="dense | bm25 | hybrid")] = None,
    k: Annotated[int | None, typer.Option(help="Passages to retrieve.")] = None,
) -> None:
    """Answer one question with numbered, quoted sources."""
    from .core import Assistant

    try:
        bot = Assistant.load(_settings(_mode(mode), k))
        _warn_stale(bot)
        _print_answer(bot.ask(question), as_json)
    except AssistantError as e:
        _fail(e)


@app.command()
def chat(mode: Annotated[str | None, typer.Option(help="dense | bm25 | hybrid")] = None) -> None:
    """A terminal chat that remembers the conversation (Ctrl-D or 'exit' to leave)."""
    from .core import Assistant
    from .types import Turn

    try:
        bot = Assistant.load(_settings(_mode(mode)))
    except AssistantError as e:
        _fail(e)
    _warn_stale(bot)
    history: list[Turn] = []
    out.print("[dim]Ask about the papers. 'exit' to leave, 'new' for a new conversation.[/]")
    while True:
        try:
            question = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if question.lower() in {"exit", "quit"}:
            break
        if question.lower() == "new":
            history = []
            continue
        try:
            answer = bot.ask(question, history=history)
        except AssistantError as e:
            err.print(f"[red]{e}[/]", highlight=False)
            continue
        _print_answer(answer, False)
        history.append(Turn(question=question, answer=answer))


@app.command("eval")
def eval_(
    modes: Annotated[list[str] | None, typer.Argument(help="Modes for --compare.")] = None,
    qa: Annotated[Path | None, typer.Option(help="Gold QA file (JSON lines).")] = None,
    mode: Annotated[str | None, typer.Option(help="dense | bm25 | hybrid")] = None,
    answerer: Annotated[str | None, typer.Option(help="extractive | llm")] = None,
    k: Annotated[int | None, typer.Option(help="Passages the answerer reads.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Report folder.")] = None,
    compare: Annotated[bool, typer.Option(help="e.g. --compare dense bm25 hybrid")] = False,
    limit: Annotated[int | None, typer.Option(help="N items, spread over question types.")] = None,
    calibrate: Annotated[bool, typer.Option(help="Sweep threshold, mode and k.")] = False,
    beir: Annotated[Path | None, typer.Option(help="Check retrieval on a BEIR folder.")] = None,
    split: Annotated[
        str, typer.Option(help="both (dev and test side by side) | dev | test | all (pooled)")
    ] = "both",
    corpus: Annotated[
        Path | None,
        typer.Option(help="Answer over a JSON-lines corpus ({_id, title, text}) instead."),
    ] = None,
) -> None:
    """Score retrieval, answers, citations and abstention on a gold set; write a report folder."""
    from . import evaluation as ev

    if modes and not compare:
        raise typer.BadParameter(f"unexpected {' '.join(modes)}: modes go after --compare")
    if split not in ("both", "dev", "test", "all"):
        raise typer.BadParameter(f"--split {split}: use both, dev, test or all")
    with Progress(TextColumn("{task.description:<24}"), BarColumn(), TimeElapsedColumn(),
                  TextColumn("{task.completed}/{task.total}"), console=err, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            tasks.setdefault(stage, bar.add_task(stage, total=total))
            bar.update(tasks[stage], completed=done, total=total)

        try:
            if beir:
                result = ev.run_beir(beir, progress=progress)
                path = ev.write_beir_report(result, out_dir or ev.default_out("-beir"))
                out.print(path.read_text(encoding="utf-8"), highlight=False, soft_wrap=True)
                return
            config = ev.EvalConfig(
                qa=qa or ev.DEFAULT_QA, mode=_mode(mode), answerer=answerer, k=k, limit=limit,
                compare=[_mode(m) for m in modes or ev.MODES] if compare else [], out=out_dir,
                calibrate=calibrate, split=split, corpus=corpus,
            )
            report, folder = ev.evaluate(config, progress=progress)
        except (AssistantError, ValueError) as e:
            _fail(e)
    for run in report.runs:
        for name, o in [(s, run.by_split[s]) for s in report.splits] or [("", run.overall)]:
            out.print(f"{run.mode:<7}{name:>5} nDCG@10 {o['ndcg@10'] or 0:.3f}  "
                      f"R@5 {o['recall@5'] or 0:.3f}  key facts {o['key_fact_recall'] or 0:.3f}  "
                      f"abstention {o['abstention_accuracy'] or 0:.3f}  "
                      f"cit. P {o['citation_precision'] or 0:.3f}")
    if report.calibration:
        b = report.calibration.best
        out.print(f"recommended: mode {b.mode}, top_k {b.k}, abstain_threshold {b.threshold}")
    out.print(f"report: {folder / 'report.md'}", highlight=False)

@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="Smoke run: small sizes, few queries.")] = False,
    sizes: Annotated[
        str | None, typer.Option(help="Corpus sizes in chunks, e.g. 1000,100000,1000000.")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for results.*")] = Path("bench"),
) -> None:
    """Measure ingestion, start-up and search speed and memory up to 1M chunks."""
    from .benchmarks import BenchConfig, run_bench

    try:
        parsed = tuple(int(s.replace("_", "")) for s in sizes.split(",")) if sizes else None
    except ValueError:
        why = f"--sizes takes integers like 1000,100000, not {sizes!r}"
        raise typer.BadParameter(why) from None
    if parsed is not None and min(parsed) < 100:
        raise typer.BadParameter(f"--sizes must each be at least 100 chunks, not {sizes!r}")
    config = BenchConfig.quick(parsed, out_dir) if quick else BenchConfig(out_dir=out_dir)
    if parsed and not quick:
        config.sizes = parsed
    try:
        run_bench(config, _settings(), say=lambda m: err.print(f"[dim]bench:[/] {m}"))
    except AssistantError as e:
        _fail(e)
    out.print((out_dir / "results.md").read_text(encoding="utf-8"), highlight=False)


def _mode(mode: str | None) -> RetrievalMode | None:
    if mode is None:
        return None
    if mode not in ("dense", "bm25", "hybrid"):
        raise typer.BadParameter(f"mode must be dense, bm25 or hybrid, not {mode!r}")
    return mode  # type: ignore[return-value]


def _warn_stale(bot) -> None:  # type: ignore[no-untyped-def]
    status = bot.status()
    if status.stale:
        err.print(f"[yellow]warning:[/] {status.message}", highlight=False)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
