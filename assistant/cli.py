"""``assistant`` command line: each command parses options, calls the library, prints."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import tomllib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .cli_render import print_answer, print_index_info, print_report
from .cli_shell import Command as _Command
from .cli_shell import Group as _Group
from .cli_shell import StageBars, err, log_to_console, out
from .cli_shell import safe_name as _name
from .errors import AssistantError
from .settings import RetrievalMode, RetrievalSettings, Settings

if TYPE_CHECKING:
    from .core import Assistant


app = typer.Typer(add_completion=False, no_args_is_help=True, cls=_Group)
F = TypeVar("F", bound=Callable[..., Any])


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
    ctx.call_on_close(log_to_console(level))


@contextmanager
def _progress(width: int = 16) -> Iterator[ProgressFn | None]:
    """Progress bars for long work, drawn only on a terminal and unless --quiet."""
    if _opts.quiet or not err.is_terminal:
        yield None
        return
    columns = (
        TextColumn(f"{{task.description:<{width}}}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        yield StageBars(bar)


def _note(message: str) -> None:
    """A warning or notice for the user on stderr, unless --quiet."""
    if not _opts.quiet:
        err.print(f"[yellow]note:[/] {_name(message)}", highlight=False)


def _settings() -> Settings:
    settings = Settings()
    if _opts.index_dir is not None:
        settings = settings.with_updates(paths={"index_dir": _opts.index_dir})
    return settings


def _max_k() -> int:
    """The most passages a question may retrieve: the settings' own bound on ``top_k``."""
    bounds = RetrievalSettings.model_fields["top_k"].metadata
    return next(int(b.le) for b in bounds if getattr(b, "le", None) is not None)


def _check_k(k: int | None) -> int | None:
    """``--k`` in range, checked here so the error names the option, not a setting."""
    if k is not None and not 1 <= k <= _max_k():
        raise _UsageError(f"--k must be between 1 and {_max_k()} passages, not {k}")
    return k


class _UsageError(Exception):
    """A bad option value the CLI checks itself (one line, exit 1)."""


def _fail(e: Exception) -> NoReturn:
    err.print(f"[bold red]error:[/] {_name(e)}", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


def _config_message(e: ValidationError | tomllib.TOMLDecodeError) -> str:
    """One line naming the bad setting and only the sources that could have set it: an
    environment variable that is set, a settings file that exists."""
    config = os.environ.get("ASSISTANT_CONFIG", "assistant.toml")
    if isinstance(e, tomllib.TOMLDecodeError):
        return f"{config} is not valid TOML ({e}): fix it or remove it"
    first = e.errors()[0]
    loc = [str(p) for p in first["loc"]]
    names = ["ASSISTANT_" + "__".join(p.upper() for p in loc[:i]) for i in range(1, len(loc) + 1)]
    given = {k.upper() for k in os.environ}
    sources = [n for n in names if n in given] + ([config] if Path(config).is_file() else [])
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    fix = f"; fix {' or '.join(sources)}" if sources else ""
    return f"invalid setting {'.'.join(loc)}{shown}: {first['msg']}{fix}"


def _guarded(command: F) -> F:
    """The CLI's one error boundary: an expected failure is one red line and exit code 1."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except (ValidationError, tomllib.TOMLDecodeError) as e:
            _fail(ValueError(_config_message(e)))
        except (AssistantError, _UsageError) as e:
            _fail(e)
        except OSError as e:
            where = f" {e.filename}" if e.filename else ""
            _fail(ValueError(f"cannot read or write{where}: {e.strerror or e}"))
        except KeyboardInterrupt:  # Ctrl-C: one line, the shell's exit code for SIGINT
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.flush()  # what was printed stays; the note goes on a line of its own
            err.print("interrupted", highlight=False)
            raise typer.Exit(130) from None

    return run  # type: ignore[return-value]


@app.command(cls=_Command)
@_guarded
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Papers or folders (searched recursively) to add. Default: corpus/."),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option("--rebuild", help="Re-embed every paper (papers added by path are kept)."),
    ] = False,
    engine: Annotated[
        str | None, typer.Option(help="Embed here (local) or on Ray Data workers (ray).")
    ] = None,
) -> None:
    """Build or update the index (only new or changed papers are embedded).

    Without PATHS: re-sync the bundled corpus (papers added by path or upload are kept)."""
    _check_paths(paths or [])  # before any other work: a typo never half-ingests
    from .core import Assistant
    from .embeddings import prepare_query_encoder

    if engine not in (None, "local", "ray"):
        raise typer.BadParameter(f"--engine {engine}: use local or ray")
    with _progress() as progress:
        settings = _settings()
        if engine:
            settings = settings.with_updates(embedding={"engine": engine})
        report = Assistant.build(
            paths or None, settings, progress=progress, rebuild=rebuild, notify=_note
        )
        prepare_query_encoder(settings)  # once per model: `ask` then never loads torch
    print_report(report, _opts.quiet)
    if report.errors and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(1)


def _check_paths(paths: list[Path]) -> None:
    """Refuse the whole ingest when any path is missing (naming each), before any work."""
    missing = [p for p in paths if not p.exists()]
    if not missing:
        return
    names = ", ".join(str(p) for p in missing)
    nothing = (
        "nothing ingested, not even the paths that exist"
        if len(missing) < len(paths)
        else "nothing ingested"
    )
    what, path = ("file or folder", "path") if len(missing) == 1 else ("files or folders", "paths")
    raise _UsageError(f"no such {what}: {names} ({nothing}): check the {path} and try again")


@app.command(cls=_Command)
@_guarded
def remove(
    papers: Annotated[
        list[str], typer.Argument(help="Paper ids or the paths they were ingested from.")
    ],
) -> None:
    """Remove papers from the index (ids as `assistant index-info` lists them, or paths)."""
    from .core import Assistant

    report = Assistant.remove_from_index(papers, _settings(), notify=_note)
    print_report(report, _opts.quiet)


@app.command("index-info", cls=_Command)
@_guarded
def index_info(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check every byte of the index against its checksums.")
    ] = False,
) -> None:
    """Show every paper in the index with its source, and whether any is stale."""
    from .core import Assistant
    from .store.checksums import verify_generation
    from .store.generations import live_generation

    settings = _settings()
    live = live_generation(settings.paths.index_dir)
    if verify and live is not None:  # the live generation, every byte: one line naming a file
        checked = verify_generation(settings.paths.index_dir / live, full=True)
        _note("checksums: every file matches" if checked else "no checksums (an older index)")
    snap, info = Assistant.describe(settings)
    print_index_info(snap, info, as_json, _note)


_PAPER_OPTION = typer.Option(
    "--paper",
    metavar="ID",
    help="Ask within this paper only (its id, as index-info lists it); repeat for several.",
)


@app.command(cls=_Command)
@_guarded
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
    mode: Annotated[str | None, typer.Option(help="dense | bm25 | hybrid")] = None,
    k: Annotated[int | None, typer.Option(help="Passages to retrieve.")] = None,
    paper: Annotated[list[str] | None, _PAPER_OPTION] = None,
) -> None:
    """Answer one question with numbered, quoted sources."""
    k, retrieval_mode = _check_k(k), _mode(mode)  # for this question: the settings stay as set
    bot = _open_assistant()
    _warn_stale(bot)
    answer = bot.ask(question, k=k, mode=retrieval_mode, papers=paper or None)
    print_answer(answer, as_json, _note)
    if _opts.verbose:
        timings = ", ".join(f"{stage} {s * 1000:.0f} ms" for stage, s in answer.timings.items())
        err.print(f"[dim]timings: {timings}[/]", highlight=False)


@app.command(cls=_Command)
@_guarded
def chat(
    mode: Annotated[str | None, typer.Option(help="dense | bm25 | hybrid")] = None,
    paper: Annotated[list[str] | None, _PAPER_OPTION] = None,
) -> None:
    """A terminal chat that remembers the conversation (Ctrl-D or 'exit' to leave)."""
    from .types import Turn

    retrieval_mode = _mode(mode)
    bot = _open_assistant()
    papers = bot.check_papers(paper) if paper else None  # a bad id fails before the first turn
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
            answer = bot.ask(question, history=history, mode=retrieval_mode, papers=papers)
        except AssistantError as e:
            err.print(f"[red]{_name(e)}[/]", highlight=False)
            continue
        except KeyboardInterrupt:  # Ctrl-C while answering: drop that answer, keep the chat
            err.print("interrupted", highlight=False)
            continue
        print_answer(answer, False, _note)
        history.append(Turn(question=question, answer=answer))


@app.command("eval", cls=_Command)
@_guarded
def eval_(
    modes: Annotated[list[str] | None, typer.Argument(help="Modes for --compare.")] = None,
    qa: Annotated[Path | None, typer.Option(help="Gold QA file (JSON lines).")] = None,
    mode: Annotated[str | None, typer.Option(help="dense | bm25 | hybrid")] = None,
    answerer: Annotated[str | None, typer.Option(help="extractive | llm")] = None,
    k: Annotated[int | None, typer.Option(help="Passages the answerer reads.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Report folder.")] = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="e.g. --compare dense bm25 hybrid")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="N items, spread over question types.")] = None,
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="Sweep threshold, mode and k.")
    ] = False,
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

    _check_k(k)
    _quiet_ranx()
    if modes and not compare:
        raise typer.BadParameter(f"unexpected {' '.join(modes)}: modes go after --compare")
    if split not in ("both", "dev", "test", "all"):
        raise typer.BadParameter(f"--split {split}: use both, dev, test or all")
    with _progress(width=24) as progress:
        try:
            if beir:
                result = ev.run_beir(beir, progress=progress)
                path = ev.write_beir_report(result, out_dir or ev.default_out("-beir"))
                out.print(path.read_text(encoding="utf-8"), highlight=False, soft_wrap=True)
                return
            config = ev.EvalConfig(
                qa=qa or ev.DEFAULT_QA,
                mode=_mode(mode),
                answerer=answerer,
                k=k,
                limit=limit,
                compare=[m for m in map(_mode, modes or ev.MODES) if m] if compare else [],
                out=out_dir,
                calibrate=calibrate,
                split=split,  # type: ignore[arg-type]  # checked above
                corpus=corpus,
            )
            report, folder = ev.evaluate(config, progress=progress)
        except ValidationError as e:
            if e.title != ev.EvalConfig.__name__:
                raise  # a setting: _guarded names it and where it was set
            first = e.errors()[0]  # an EvalConfig field is an option of this command
            option = "--" + str(first["loc"][0]).replace("_", "-")
            _fail(ValueError(f"{option} {first.get('input')!r}: {first['msg']}"))
        except (AssistantError, ValueError) as e:
            _fail(e)
    for run in report.runs:
        for name, o in [(s, run.by_split[s]) for s in report.splits] or [("", run.overall)]:
            out.print(
                f"{run.mode:<7}{name:>5} nDCG@10 {o['ndcg@10'] or 0:.3f}  "
                f"R@5 {o['recall@5'] or 0:.3f}  key facts {o['key_fact_recall'] or 0:.3f}  "
                f"first cit. {o.get('first_citation_key_fact_recall') or 0:.3f}  "
                f"abstention {o['abstention_accuracy'] or 0:.3f}  "
                f"cit. P {o['citation_precision'] or 0:.3f}"
            )
    if report.calibration:
        b = report.calibration.best
        out.print(f"recommended: mode {b.mode}, top_k {b.k}, abstain_threshold {b.threshold}")
    out.print(f"report: {folder / 'report.md'}", highlight=False)


@app.command(cls=_Command)
@_guarded
def bench(
    quick: Annotated[
        bool, typer.Option("--quick", help="Smoke run: small sizes, few queries.")
    ] = False,
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


def _quiet_ranx() -> None:
    """Hide the warning ranx's numba kernels give when first compiled (a fresh venv): "unsafe
    cast from uint64 to int64", about ranx's own index arithmetic, not the scores. By message,
    as pyproject.toml's pytest filter does (numba may colour the text)."""
    warnings.filterwarnings("ignore", message=".*unsafe cast from uint64 to int64")


def _mode(mode: str | None) -> RetrievalMode | None:
    if mode is None:
        return None
    if mode not in ("dense", "bm25", "hybrid"):
        raise typer.BadParameter(f"mode must be dense, bm25 or hybrid, not {mode!r}")
    return mode  # type: ignore[return-value]


def _say(message: str) -> None:
    if not _opts.quiet:
        err.print(f"[dim]bench:[/] {escape(message)}", highlight=False)


def _open_assistant() -> Assistant:
    """The Assistant on the current settings; a first use says, on one line, that it builds
    the index once (then progress bars, on a terminal)."""
    from .bundled import corpus_dir
    from .core import Assistant

    settings = _settings()
    if not _opts.quiet and not Assistant.has_index(settings):
        corpus = settings.paths.corpus_dir
        source = (
            "the bundled papers (about 30 s, once)"
            if corpus.resolve() == corpus_dir().resolve()
            else f"the papers in {corpus} (once)"
        )
        err.print(f"building the index from {_name(source)}…", highlight=False)
    with _progress() as progress:  # drawn only if the index is built on first use
        return Assistant.load(settings, progress=progress)


def _warn_stale(bot: Assistant) -> None:
    if bot.notice:
        _note(bot.notice)
    status = bot.status()
    if status.stale and not _opts.quiet:
        err.print(f"[yellow]warning:[/] {_name(status.message)}", highlight=False)


def main() -> None:  # pragma: no cover
    try:
        app()
    except KeyboardInterrupt:  # Ctrl-C before a command's own boundary (_guarded) took over
        err.print("interrupted", highlight=False)
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
