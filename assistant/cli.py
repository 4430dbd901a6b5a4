"""``assistant`` command line: each command parses options, calls the library, prints."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import AssistantError
from .settings import RetrievalMode, Settings

app = typer.Typer(add_completion=False, no_args_is_help=True)
out = Console()
err = Console(stderr=True)

ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class _Options:
    quiet: bool = False
    verbose: bool = False
    index_dir: Path | None = None


_opts = _Options()


@app.callback()
def _global_options(
    ctx: typer.Context,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Results only: no notes, warnings or progress.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print what the library logs, and timings.")
    ] = False,
    index_dir: Annotated[
        Path | None,
        typer.Option(help="Index folder (default: ./index, or paths.index_dir in the settings)."),
    ] = None,
) -> None:
    """Cited answers from research papers, offline. Index and cache live in the folder you run
    it from (./index, ./.cache) unless settings say otherwise."""
    global _opts
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose exclude each other")
    _opts = _Options(quiet=quiet, verbose=verbose, index_dir=index_dir)
    level = logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING
    ctx.call_on_close(_log_to_console(level))


class _ConsoleLog(logging.Handler):
    """The library's log records as one dim (info) or yellow (warning) line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        label = "[yellow]note:[/]" if record.levelno >= logging.WARNING else "[dim]info:[/]"
        err.print(f"{label} {escape(record.getMessage())}", highlight=False, soft_wrap=True)


def _log_to_console(level: int) -> Callable[[], None]:
    """Send the library's log to the console for this command; returns the undo."""
    logger = logging.getLogger("assistant")
    handler, before = _ConsoleLog(), (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # printed once, here, not again by a root handler

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]

    return restore


class _StageBars:
    """A progress callback drawing one bar per stage (each added once, then updated)."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)


@contextmanager
def _progress(width: int = 10) -> Iterator[ProgressFn | None]:
    """Progress bars for long work, drawn only on a terminal and unless --quiet."""
    if _opts.quiet or not err.is_terminal:
        yield None
        return
    columns = (
        TextColumn(f"{{task.description:<{width}}}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        yield _StageBars(bar)


def _note(message: str) -> None:
    """A warning or notice for the user on stderr, unless --quiet."""
    if not _opts.quiet:
        err.print(f"[yellow]note:[/] {escape(message)}", highlight=False)


def _settings(mode: str | None = None, k: int | None = None) -> Settings:
    settings = Settings()
    if _opts.index_dir is not None:
        settings = settings.with_updates(paths={"index_dir": _opts.index_dir})
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
        list[Path] | None, typer.Argument(help="Files to add (default: the bundled papers).")
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
    with _progress() as progress:
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
        if not _opts.quiet:
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
        _note(answer.notice)
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
        with _progress() as progress:  # drawn only if the index is built on first use
            bot = Assistant.load(_settings(_mode(mode), k), progress=progress)
        _warn_stale(bot)
        answer = bot.ask(question)
        _print_answer(answer, as_json)
    except AssistantError as e:
        _fail(e)
    if _opts.verbose:
        timings = ", ".join(f"{stage} {s * 1000:.0f} ms" for stage, s in answer.timings.items())
        err.print(f"[dim]timings: {timings}[/]", highlight=False)


@app.command()
def chat(mode: Annotated[str | None, typer.Option(help="dense | bm25 | hybrid")] = None) -> None:
    """A terminal chat that remembers the conversation (Ctrl-D or 'exit' to leave)."""
    from .core import Assistant
    from .types import Turn

    try:
        with _progress() as progress:
            bot = Assistant.load(_settings(_mode(mode)), progress=progress)
    except AssistantError as e:
        _fail(e)
    _warn_stale(bot)
    history: list[Turn] = []
    if not _opts.quiet:
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
) -> None:
    """Score retrieval, answers, citations and abstention on a gold set; write a report folder."""
    from . import evaluation as ev

    if modes and not compare:
        raise typer.BadParameter(f"unexpected {' '.join(modes)}: modes go after --compare")
    with _progress(width=24) as progress:
        try:
            if beir:
                result = ev.run_beir(beir, progress=progress)
                path = ev.write_beir_report(result, out_dir or ev.default_out("-beir"))
                out.print(path.read_text(encoding="utf-8"), highlight=False, soft_wrap=True)
                return
            config = ev.EvalConfig(
                qa=qa or ev.DEFAULT_QA, mode=_mode(mode), answerer=answerer, k=k, limit=limit,
                compare=[m for m in map(_mode, modes or ev.MODES) if m] if compare else [],
                out=out_dir, calibrate=calibrate,
            )
            report, folder = ev.evaluate(config, progress=progress)
        except (AssistantError, ValueError) as e:
            _fail(e)
    for run in report.runs:
        o = run.overall
        out.print(f"{run.mode:<7} nDCG@10 {o['ndcg@10'] or 0:.3f}  R@5 {o['recall@5'] or 0:.3f}  "
                  f"key facts {o['key_fact_recall'] or 0:.3f}  F1 {o['f1'] or 0:.3f}")
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
        run_bench(config, _settings(), say=_say)
    except AssistantError as e:
        _fail(e)
    out.print((out_dir / "results.md").read_text(encoding="utf-8"), highlight=False)


def _mode(mode: str | None) -> RetrievalMode | None:
    if mode is None:
        return None
    if mode not in ("dense", "bm25", "hybrid"):
        raise typer.BadParameter(f"mode must be dense, bm25 or hybrid, not {mode!r}")
    return mode  # type: ignore[return-value]


def _say(message: str) -> None:
    if not _opts.quiet:
        err.print(f"[dim]bench:[/] {escape(message)}", highlight=False)


def _warn_stale(bot) -> None:  # type: ignore[no-untyped-def]
    status = bot.status()
    if status.stale and not _opts.quiet:
        err.print(f"[yellow]warning:[/] {escape(status.message)}", highlight=False)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
