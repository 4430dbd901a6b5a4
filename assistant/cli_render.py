"""What the ``assistant`` commands print: ingest summaries, index rows, answers with sources.

Everything from a paper or a file name is shown through :mod:`assistant.safe_text` (by way of
``cli_shell.safe`` for prose, ``safe_line`` for titles and quotes, ``safe_name`` for paths and
ids): no terminal controls, no bidi marks, no Rich markup, and a name is always one line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from .cli_shell import err, out, quoted, safe, safe_json, safe_line, safe_name
from .corpus.pages import page_label
from .safe_text import clean_for_display, one_line

if TYPE_CHECKING:
    from .ingest import IngestReport
    from .papers import IndexInfo, PaperInfo
    from .store import IndexSnapshot
    from .types import Answer


def ingest_summary(report: IngestReport) -> str:
    """The one-line summary of an ingest or removal, whose counts add up: every paper in the
    index was added, updated or unchanged (a duplicate file, indexed once, is counted apart)."""
    duplicates = report.aliases
    added = [d for d in report.added if d not in duplicates]
    updated = [d for d in report.updated if d not in duplicates]
    recovered = [d for d in report.recovered if d not in duplicates]
    unchanged = max(report.documents - len(added) - len(updated) - len(recovered), 0)
    again = f"{len(recovered)} recovered, " if recovered else ""
    reused = f" ({report.reused} from the cache)" if report.reused and report.embedded else ""
    return (
        f"{report.documents} docs ({len(added)} added, {len(updated)} updated, {again}"
        f"{unchanged} unchanged), {len(report.removed)} removed, "
        f"{len(duplicates)} duplicates indexed once, {report.chunks} chunks, "
        f"{report.tokens} tokens, {report.embedded} embedded{reused}, {report.seconds:.1f}s"
    )


def print_report(report: IngestReport, quiet: bool) -> None:
    """What an ingest or removal did: skipped files on stderr, links and the summary on stdout."""
    for path, reason in report.errors.items():
        err.print(f"[yellow]skipped[/] {safe_name(path)}: {safe_name(reason)}", highlight=False)
    for path, existing in report.duplicates.items():
        if not quiet:
            err.print(
                f"[yellow]duplicate[/] {safe_name(path)}: same file as {safe_name(existing)}",
                highlight=False,
            )
    for alias, canonical in report.aliases.items():
        out.print(
            f"alias      {safe_name(alias)} -> {safe_name(canonical)} (same paper, indexed once)",
            highlight=False,
        )
    for members in report.versions.values():
        out.print(f"versions   {safe_name(', '.join(members))}", highlight=False)
    for doc_id in report.removed:
        out.print(f"removed    {safe_name(doc_id)}", highlight=False)
    for doc_id in report.recovered:
        out.print(f"recovered  {safe_name(doc_id)} (read again from its file)", highlight=False)
    for doc_id, why in report.warnings.items():
        err.print(f"[yellow]warning[/] {safe_name(doc_id)}: {safe_name(why)}", highlight=False)
    for doc_id, why in report.dropped.items():
        err.print(f"[red]lost[/] {safe_name(doc_id)}: {safe_name(why)}", highlight=False)
    out.print(ingest_summary(report), highlight=False)


def paper_row(p: PaperInfo, full_title: bool) -> tuple[str, ...]:
    """One paper's cells for ``index-info``, each on one line: names with hidden characters
    escaped visibly, the title with its controls and bidi marks removed."""
    links = (
        f"alias of {p.alias_of}"
        if p.alias_of
        else (f"versions: {p.version_group}" if p.version_group else "")
    )
    source = p.source if p.source == "corpus" else f"{p.source}: {p.path}"
    title = p.title if full_title else p.title[:60]
    title = clean_for_display(title, keep_newlines=False)
    return (one_line(p.doc_id), title, one_line(source), p.state, str(p.chunks), one_line(links))


def print_answer(answer: Answer, as_json: bool, note: Callable[[str], None]) -> None:
    """The answer, then each marker's source and quote (or the closest passages of a decline)."""
    if as_json:
        sys.stdout.write(safe_json(answer.model_dump_json(indent=2)) + "\n")
        return
    if answer.notice:
        note(answer.notice)
    out.print(safe(answer.text), highlight=False)
    if answer.abstained and answer.passages:
        out.print("\n[dim]Closest passages:[/]")
        for p in answer.passages[:3]:
            out.print(
                f"  - {safe_line(p.title)} — {safe_line(p.section)}: {safe_line(p.text[:160])}…",
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
        if c.page is not None:  # PDFs: "p. 4" / "pp. 4–5"
            section += ", " + page_label(c.page, c.page_end)
        out.print(
            f"\\[{c.marker}] {safe_line(c.passage.title)} ({safe_name(c.doc_id)}), "
            f"{safe_line(section)}",
            highlight=False,
        )
        out.print(f"    {safe_line(quoted(quotes))}", highlight=False)


def print_index_info(
    snap: IndexSnapshot, info: IndexInfo, as_json: bool, note: Callable[[str], None]
) -> None:
    """``index-info``: the index, a table of papers (tab-separated when piped), the status."""
    if as_json:
        data = {
            "manifest": snap.manifest.model_dump(mode="json") if snap.manifest else None,
            "papers": [asdict(p) for p in info.papers],
            "stale": info.status.stale,
            "reasons": info.status.reasons,
            "notice": info.notice,
        }
        sys.stdout.write(safe_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")
        return
    if info.notice:
        note(info.notice)
    out.print(f"index      {safe_name(info.path)}", highlight=False)
    out.print(f"model      {safe(info.model)} ({info.dimension}-d)", highlight=False)
    out.print(
        f"chunks     {info.chunks} ({safe(info.index_type)}), built {safe(info.built_at)}",
        highlight=False,
    )
    header = ("doc", "title", "source", "file", "chunks", "links")
    rows = [paper_row(p, full_title=not out.is_terminal) for p in info.papers]
    if out.is_terminal:
        table = Table(*header)
        for cells in rows:
            table.add_row(*(Text(c) for c in cells))
        out.print(table)
    else:  # piped: one tab-separated line per paper, for cut, awk and sort (Rich expands tabs)
        for cells in [header, *rows]:
            sys.stdout.write("\t".join(" ".join(c.split()) for c in cells) + "\n")
    for p in info.papers:
        if p.warning:
            note(f"{p.doc_id}: {p.warning}")
    colour = "yellow" if info.status.stale else "green"
    out.print(f"[{colour}]{safe_name(info.status.message)}[/]", highlight=False)
