"""The write path's entry points: add or re-sync papers, remove papers (written once).

``Assistant.add_documents/reindex/remove`` and the module-level ``ingest`` (benchmarks, the
eval harness, scripts) both come here; nothing here knows the ``Assistant`` facade.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..embeddings import Embedder
from ..errors import IndexWriteError
from ..settings import Settings
from ..store import IndexSnapshot, load_snapshot
from ..types import Progress
from .pipeline import Ingestor, Notify
from .report import IngestReport
from .uploads import discard_uploads


def run_ingest(
    settings: Settings,
    embedder: Embedder,
    *,
    paths: Iterable[Path] | None = None,
    rebuild: bool = False,
    remove: Iterable[str] = (),
    base: IndexSnapshot | None = None,
    progress: Progress | None = None,
    notify: Notify | None = None,
) -> tuple[IndexSnapshot, IngestReport]:
    """One ingest under the writer lock; an OS error while writing is one clear line."""
    try:
        return Ingestor(settings, embedder, progress, notify).run(
            paths, rebuild=rebuild, base=base, remove=remove
        )
    except IndexWriteError:
        raise
    except OSError as e:
        raise IndexWriteError(
            f"could not write the index at {settings.paths.index_dir}: {e}"
        ) from e


def remove_papers(
    settings: Settings,
    embedder: Embedder,
    targets: Iterable[str | Path],
    *,
    base: IndexSnapshot | None = None,
    notify: Notify | None = None,
) -> tuple[IndexSnapshot, IngestReport]:
    """Drop the papers named by id or by the path they were ingested from (nothing else);
    delete the files the assistant itself stored for removed uploads."""
    from ..papers import resolve_paper

    latest = load_snapshot(settings.paths.index_dir, settings.store)
    ids = [resolve_paper(t, latest.documents.values()) for t in targets]
    snapshot, report = run_ingest(
        settings, embedder, paths=[], remove=ids, base=base, notify=notify
    )
    discard_uploads([latest.documents[i] for i in report.removed], settings)
    return snapshot, report


def ingest(
    paths: Iterable[Path] | None = None,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
    remove: Iterable[str] = (),
    notify: Notify | None = None,
) -> IngestReport:
    """Build or update the index: sync the bundled corpus (no ``paths``), or add ``paths``
    (files or folders, searched recursively); drop the papers with the ids in ``remove``."""
    from ..embeddings import make_embedder

    settings = settings or Settings()
    embedder = embedder or make_embedder(settings)
    _, report = run_ingest(
        settings,
        embedder,
        paths=paths,
        rebuild=rebuild,
        remove=remove,
        progress=progress,
        notify=notify,
    )
    return report
