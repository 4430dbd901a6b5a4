"""Which paper each chunk belongs to, and each paper's chunks in text order, as arrays.

The retriever (filter to named papers, boost a follow-up's paper, find a field's chunk) and
the answerer (the chunk at a cited offset) need this of every chunk; a stored generation keeps
it as memory-mapped ``.npy`` files (``chunk_table``), so a load reads no chunk to build it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .records import ChunkRecord


class ChunkLayout:
    """Which paper each chunk belongs to, and each paper's chunks in text order.

    Built from the memory-mapped arrays of a stored generation, or from a list of chunks
    (a fresh ingest, an empty index, an old-format generation).
    """

    def __init__(
        self,
        doc_ids: list[str],
        doc_of: np.ndarray,
        starts: np.ndarray,
        by_doc: np.ndarray,
        doc_ptr: np.ndarray,
    ) -> None:
        self.doc_ids = doc_ids
        self.doc_of = doc_of
        self.starts = starts
        self._by_doc = by_doc
        self._doc_ptr = doc_ptr
        self._index = {d: i for i, d in enumerate(doc_ids)}

    @classmethod
    def of(cls, chunks: Sequence[ChunkRecord]) -> ChunkLayout:
        found = getattr(chunks, "layout", None)  # a ChunkTable brings its own, memory-mapped
        if isinstance(found, ChunkLayout):
            return found
        index: dict[str, int] = {}
        doc_of = np.fromiter(
            (index.setdefault(c.doc_id, len(index)) for c in chunks), np.int32, len(chunks)
        )
        starts = np.fromiter((c.start for c in chunks), np.int64, len(chunks))
        by_doc, doc_ptr = group_by_doc(doc_of, starts, len(index))
        return cls(list(index), doc_of, starts, by_doc, doc_ptr)

    def doc_id(self, position: int) -> str:
        return self.doc_ids[int(self.doc_of[position])]

    def positions(self, doc_id: str) -> np.ndarray:
        """The chunk positions of ``doc_id`` sorted by start (ties in position order)."""
        i = self._index.get(doc_id)
        if i is None:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self._by_doc[self._doc_ptr[i] : self._doc_ptr[i + 1]], dtype=np.int64)


def group_by_doc(
    doc_of: np.ndarray, starts: np.ndarray, docs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions sorted by (paper, start), stable; ``ptr[d]:ptr[d+1]`` are paper ``d``'s."""
    order = np.lexsort((starts, doc_of)).astype(np.int32)
    ptr = np.zeros(docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc_of, minlength=docs), out=ptr[1:])
    return order, ptr
