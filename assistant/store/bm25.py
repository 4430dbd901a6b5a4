"""The keyword index's place in a generation: saved beside the vectors in ``bm25/``.

The index itself (``BM25Index``, bm25s underneath) lives with retrieval, which builds and
queries it; the store only needs something it can ``save`` into the folder, then fsyncs it.
"""

from __future__ import annotations

from pathlib import Path

from .files import fsync_path
from .records import LexicalIndex


def save_lexical(lexical: LexicalIndex, folder: Path) -> None:
    lexical.save(folder)
    for part in folder.iterdir():
        fsync_path(part)
    fsync_path(folder)
