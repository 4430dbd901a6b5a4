"""One line per bench run in ``bench/README.md``'s History table, and its targets table.

``results.json`` holds only the last run; the history keeps every run's headline figures with
its date, commit and machine load, so a regression shows up as a row that got worse.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from ..store.files import atomic_write_text
from .report import targets_table
from .targets import LARGEST, figure, judge

HISTORY = "## History"
TARGETS_START = "<!-- bench-targets:start -->"
TARGETS_END = "<!-- bench-targets:end -->"
HEAD = (
    "date (UTC)",
    "commit",
    "run",
    "load 1m start → end",
    "cold ×",
    "warm ×",
    "`assistant ask` s",
    "ask p50 / p95 ms (corpus)",
    "largest size",
    "ask p50 ms (largest)",
    "load s / RSS MB (largest)",
    "targets met",
)
_INTRO = (
    "One row per `assistant bench` run, appended by the run itself (newest last);\n"
    "`results.json` holds the last run only. Compare rows at a similar load."
)


def git_commit(where: Path | None = None) -> str:
    """The short hash of the checkout the code runs from, ``+`` if it has local changes;
    ``-`` outside a git checkout (an installed wheel)."""
    cwd = where or Path(__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=cwd, capture_output=True, text=True
        )
        if head.returncode != 0:
            return "-"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "-"
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def history_row(results: dict[str, Any], commit: str, when: float | None = None) -> list[str]:
    """The cells of this run's history line."""
    m = results.get("machine", {})
    quick = results.get("config", {}).get("queries", 0) < 50
    verdicts = judge(results)
    judged = [v for v in verdicts if v.met is not None]

    def num(keys: tuple[str | int, ...], fmt: str) -> str:
        value = figure(results, keys)
        return "–" if value is None else format(value, fmt)

    ask = ("startup", "search", "ask")
    big = ("scale", LARGEST)
    largest = figure(results, (*big, "chunks"))
    return [
        time.strftime("%Y-%m-%d %H:%M", time.gmtime(when)),
        commit,
        "quick" if quick else "full",
        f"{m.get('load_avg_1m', '–')} → {m.get('load_avg_1m_end', '–')}",
        num(("ingestion", "ratio_cold"), ".2f"),
        num(("ingestion", "ratio_warm"), ".1f"),
        num(("startup", "cli_ask_s"), ".2f"),
        f"{num((*ask, 'p50_ms'), '.1f')} / {num((*ask, 'p95_ms'), '.1f')}",
        "–" if largest is None else f"{largest:,.0f}",
        num((*big, "search", "ask", "p50_ms"), ".1f"),
        f"{num((*big, 'serve', 'load_s'), '.2f')} / {num((*big, 'serve', 'rss_mb'), ',.0f')}",
        f"{sum(bool(v.met) for v in judged)}/{len(judged)}",
    ]


def record_run(results: dict[str, Any], readme: Path, commit: str | None = None) -> list[str]:
    """Append this run's line to ``readme``'s History table (made if missing) and refresh its
    targets block (when the file has one); return the line's cells."""
    row = history_row(results, commit if commit is not None else git_commit())
    text = readme.read_text(encoding="utf-8") if readme.is_file() else "# Benchmarks\n"
    text = _with_targets(text, targets_table(judge(results)))
    readme.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(readme, _with_row(text, row))
    return row


def _with_row(text: str, row: list[str]) -> str:
    line = "| " + " | ".join(c.replace("|", "/") for c in row) + " |"
    lines = text.rstrip("\n").split("\n")
    if HISTORY not in lines:
        lines += ["", HISTORY, "", _INTRO, ""]
    at = lines.index(HISTORY) + 1
    while at < len(lines) and not lines[at].startswith(("|", "## ")):  # to the table
        at += 1
    if at == len(lines) or not lines[at].startswith("|"):  # the section lost its table
        lines[at:at] = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD), ""]
    while at < len(lines) and lines[at].startswith("|"):  # to its last row
        at += 1
    lines.insert(at, line)
    return "\n".join(lines) + "\n"


def _with_targets(text: str, table: str) -> str:
    start, end = text.find(TARGETS_START), text.find(TARGETS_END)
    if start < 0 or end < start:
        return text
    return text[: start + len(TARGETS_START)] + "\n" + table + "\n" + text[end:]
