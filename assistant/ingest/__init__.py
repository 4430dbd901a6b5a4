"""The write path: files → records → chunks → vectors → a new index generation.

Stage modules: ``sources`` (which files, ids), ``records`` (load, clean, MinHash), ``relate``
(duplicates, versions), ``chunks``, ``encode``, ``pipeline`` (the ``Ingestor`` that runs them
under the writer lock), ``uploads``, ``run`` (entry points). Never imports the ``Assistant``
facade. Imported lazily: the ingest stack (datasketch, scipy) is not needed to ask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .report import IngestReport

if TYPE_CHECKING:
    from .pipeline import Ingestor
    from .run import ingest, remove_papers, run_ingest

__all__ = ["IngestReport", "Ingestor", "ingest", "remove_papers", "run_ingest"]


def __getattr__(name: str) -> Any:
    if name == "Ingestor":
        from .pipeline import Ingestor

        return Ingestor
    if name in ("ingest", "remove_papers", "run_ingest"):
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
