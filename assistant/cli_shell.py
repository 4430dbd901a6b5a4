"""How the ``assistant`` command line meets a shell: output that follows shell habits, help
that reads like other Unix tools', paper text made safe to print, the library's log and
progress bars on stderr.

Kept apart from ``cli.py`` (the commands) so each stays readable in a sitting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, TaskID
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class ShellConsole(Console):
    """Rich output that follows shell habits (as ``gh``, ``rg`` and ``llm`` print): styled and
    word-wrapped on a terminal; piped or redirected, plain text with each paragraph on one line,
    so ``| cat``, ``grep`` and copying see whole sentences. (Rich already drops colours off a
    terminal and honours ``NO_COLOR`` / ``FORCE_COLOR``.)"""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if not self.is_terminal:
            kwargs.setdefault("soft_wrap", True)  # no hard wrap at 80 columns
        super().print(*objects, **kwargs)


def _plain_flags(params: list[Any]) -> list[Any]:
    """On/off flags without a value placeholder in help: typer shows a flag's type
    (``--json <bool>``) unless it has a metavar, which a flag never uses otherwise."""
    for p in params:
        if isinstance(p, TyperOption) and p.is_flag and p.metavar is None:
            p.metavar = ""
    return params


class Group(TyperGroup):
    """The ``assistant`` group, its help written as click writes it (see :func:`_plain_flags`)."""

    def get_params(self, ctx: Any) -> list[Any]:  # ctx: typer's vendored click Context
        return _plain_flags(super().get_params(ctx))


class Command(TyperCommand):
    """A command whose help reads like other Unix tools': flags without ``<bool>``, and
    arguments named in capitals in the usage line (``ask [OPTIONS] QUESTION``, where typer
    writes ``{question}``)."""

    def get_params(self, ctx: Any) -> list[Any]:  # ctx: typer's vendored click Context
        return _plain_flags(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for p in self.get_params(ctx):
            if not isinstance(p, TyperArgument):
                continue  # options are summed up by [OPTIONS]
            name = (p.metavar or p.name or "").upper()
            pieces.append((name if p.required else f"[{name}]") + ("..." if p.nargs != 1 else ""))
        return pieces


# Terminal escape sequences (CSI, OSC, two-byte ESC) and other C0 controls: a paper's text or
# a file name must not move the cursor, recolour or retitle the user's terminal.
_TERMINAL_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f\x9b]"
)


def strip_controls(text: str) -> str:
    """``text`` without terminal escape sequences and control characters."""
    return _TERMINAL_CONTROL.sub("", text)


def safe(value: object) -> str:
    """Paper text, titles and paths for the terminal: controls stripped, Rich markup escaped."""
    return escape(strip_controls(str(value)))


_OPENING, _CLOSING = '“"', '”"'
# A quote's own double quotes become single ones inside the app's “…” (nested quotes
# alternate), so a source reads “and ‘2017-2018 … Index’ released by …”, not “and “2017…”.
_INNER_QUOTES = str.maketrans({"“": "‘", "”": "’", '"': "'"})


def quoted(text: str) -> str:
    """``text`` in typographic double quotes, its own quotation marks nested inside them; a
    text that is already one quotation (“…” with no other quote mark) is shown as it is."""
    if (
        len(text) > 1
        and text[0] in _OPENING
        and text[-1] in _CLOSING
        and not any(q in text[1:-1] for q in '“”"')
    ):
        return text
    return f"“{text.translate(_INNER_QUOTES)}”"


class ConsoleLog(logging.Handler):
    """The library's log records as one dim (info) or yellow (warning) line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        label = "[yellow]note:[/]" if record.levelno >= logging.WARNING else "[dim]info:[/]"
        err.print(f"{label} {safe(record.getMessage())}", highlight=False, soft_wrap=True)


def log_to_console(level: int) -> Callable[[], None]:
    """Send the library's log to the console for this command; returns the undo."""
    logger = logging.getLogger("assistant")
    handler, before = ConsoleLog(), (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # printed once, here, not again by a root handler

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(before[0])
        logger.propagate = before[1]

    return restore


class StageBars:
    """A progress callback drawing one bar per stage (each added once, then updated)."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(stage, total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)


out = ShellConsole()
err = ShellConsole(stderr=True)
