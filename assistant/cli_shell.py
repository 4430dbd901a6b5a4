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

from .safe_text import clean_for_display, one_line


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


def safe(value: object) -> str:
    """Paper text (an answer, a passage) for the terminal: controls, escape sequences and bidi
    marks removed (:func:`~assistant.safe_text.clean_for_display`), Rich markup escaped."""
    return escape(clean_for_display(str(value)))


def safe_line(value: object) -> str:
    """:func:`safe`, on one line: a title or a quote, its line breaks and tabs made spaces."""
    return escape(clean_for_display(str(value), keep_newlines=False))


def safe_name(value: object) -> str:
    """A path, a doc id or a message naming one, on one line with nothing hidden: a newline
    in a file name shows as ``\\n`` and cannot forge a line of output
    (:func:`~assistant.safe_text.one_line`); Rich markup escaped."""
    return escape(one_line(str(value)))


# What JSON may carry raw but a terminal must not receive: DEL and C1 controls, bidi marks,
# line and paragraph separators, and lone surrogates (a file name's undecodable bytes, which
# cannot even be written out). JSON encoders already escape C0. Escaped as \uXXXX, the JSON
# decodes to the very same strings.
_JSON_HIDDEN = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)


def safe_json(text: str) -> str:
    """JSON text (``--json`` output) with every character a terminal would act on written as
    a ``\\uXXXX`` escape: the same data for a script, nothing hostile on a screen."""
    return _JSON_HIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


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
        err.print(f"{label} {safe_name(record.getMessage())}", highlight=False, soft_wrap=True)


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

    # what each stage counts, so a bar reads "embedding chunks 1200/5000"
    UNITS = {"reading": "reading papers", "embedding": "embedding chunks"}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.bar.add_task(self.UNITS.get(stage, stage), total=total)
        self.bar.update(self.tasks[stage], completed=done, total=total)


out = ShellConsole()
err = ShellConsole(stderr=True)
