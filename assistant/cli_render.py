"""What the ``assistant`` commands print: ingest summaries, index rows, answers with sources.

Paper text goes through :func:`~assistant.cli_shell.safe` (no terminal controls, no Rich
markup) and quotes through :func:`~assistant.cli_shell.quoted`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .cli_shell import err, out, quoted, safe, strip_controls

if TYPE_CHECKING:
    from .ingest import IngestReport
    from .papers import PaperInfo
    from .types import Answer


def ingest_summary(report: IngestReport) -> str:
    """The one-line summary of an ingest or removal, whose counts add up: every paper in the
    index was added, updated or unchanged (a duplicate file, indexed once, is counted apart)."""
    duplicates = report.aliases
    added = [d for d in report.added if d not in duplicates]
    updated = [d for d in report.updated if d not in duplicates]
    unchanged = max(report.documents - len(added) - len(updated), 0)
    return (
        f"{report.documents} docs ({len(added)} added, {len(updated)} updated, "
        f"{unchanged} unchanged), {len(report.removed)} removed, "
        f"{len(duplicates)} duplicates indexed once, {report.chunks} chunks, "
        f"{report.tokens} tokens, {report.embedded} embedded, {report.seconds:.1f}s"
    )


def print_report(report: IngestReport, quiet: bool) -> None:
    """What an ingest or removal did: skipped files on stderr, links and the summary on stdout."""
    for path, reason in report.errors.items():
        err.print(f"[yellow]skipped[/] {safe(path)}: {safe(reason)}", highlight=False)
    for path, existing in report.duplicates.items():
        if not quiet:
            err.print(
                f"[yellow]duplicate[/] {safe(path)}: same file as {safe(existing)}",
                highlight=False,
            )
    for alias, canonical in report.aliases.items():
        out.print(
            f"alias      {safe(alias)} -> {safe(canonical)} (same paper, indexed once)",
            highlight=False,
        )
    for members in report.versions.values():
        out.print(f"versions   {safe(', '.join(members))}", highlight=False)
    for doc_id in report.removed:
        out.print(f"removed    {safe(doc_id)}", highlight=False)
    out.print(ingest_summary(report), highlight=False)


def paper_row(p: PaperInfo, full_title: bool) -> tuple[str, ...]:
    """One paper's cells for ``index-info``, control characters stripped."""
    links = (
        f"alias of {p.alias_of}"
        if p.alias_of
        else (f"versions: {p.version_group}" if p.version_group else "")
    )
    source = p.source if p.source == "corpus" else f"{p.source}: {p.path}"
    title = p.title if full_title else p.title[:60]
    cells = (p.doc_id, title, source, p.state, str(p.chunks), links)
    return tuple(strip_controls(c) for c in cells)


def print_answer(answer: Answer, as_json: bool, note: Callable[[str], None]) -> None:
    """The answer, then each marker's source and quote (or the closest passages of a decline)."""
    if as_json:
        sys.stdout.write(answer.model_dump_json(indent=2) + "\n")
        return
    if answer.notice:
        note(answer.notice)
    out.print(safe(answer.text), highlight=False)
    if answer.abstained and answer.passages:
        out.print("\n[dim]Closest passages:[/]")
        for p in answer.passages[:3]:
            out.print(
                f"  - {safe(p.title)} — {safe(p.section)}: {safe(p.text[:160])}…",
                highlight=False,
            )
    seen: set[int] = set()
    if answer.citations:
        out.print("\n[bold]Sources[/]")
    for c in answer.citations:
        if c.marker in seen:
            continue
        seen.add(c.marker)
        quotes = " … ".join(x.quote for x in answer.citations if x.marker == c.marker)
        section = c.passage.section or "front matter"
        out.print(
            f"\\[{c.marker}] {safe(c.passage.title)} ({safe(c.doc_id)}), {safe(section)}",
            highlight=False,
        )
        out.print(f"    {safe(quoted(quotes))}", highlight=False)
