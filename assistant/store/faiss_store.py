"""FAISS vectors: exact search for small corpora, IVF or HNSW beyond ``store.hnsw_threshold``."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ..settings import StoreSettings

# A query-sized search runs on one OpenMP thread: beside torch's spinning threads, FAISS's two
# threads made a 20k-vector exact search take 9-16 ms at p50 instead of 1.05 ms (bench/).
_SMALL_BATCH = 8
# A search within a few papers on an approximate index scores their rows exactly: an IVF's
# selector only sees the probed lists, so a paper's chunks elsewhere would be missed.
_EXACT_ROWS = 4096


class FaissVectorStore:
    """Positional FAISS index: exact (flat) up to ``store.hnsw_threshold`` vectors, then IVF
    (or HNSW), with parameters chosen by the benchmark in bench/README.md.

    >>> store = FaissVectorStore.build(vectors, StoreSettings())
    >>> scores, rows = store.search(query_vectors, k=10)
    """

    def __init__(self, index: faiss.Index, mapped_from: Path | None = None) -> None:
        self.index = index
        # set when the index's lists are a read-only memory map of this file (see load)
        self.mapped_from = mapped_from

    @classmethod
    def build(cls, vectors: np.ndarray, settings: StoreSettings | None = None) -> FaissVectorStore:
        settings = settings or StoreSettings()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape
        index: faiss.Index
        if n <= settings.hnsw_threshold:
            index = faiss.IndexFlatIP(dim)
        elif settings.ann == "hnsw":
            index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = settings.hnsw_ef_search
        else:
            index = _trained_ivf(vectors, ivf_lists(n, settings), settings.ivf_nprobe)
        if n:
            index.add(vectors)
        return cls(index)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> str:
        if isinstance(self.index, faiss.IndexHNSW):
            return "hnsw"
        return "ivf" if isinstance(self.index, faiss.IndexIVF) else "flat"

    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        positions: np.ndarray | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows by inner product; with ``positions``, only among those rows (an id
        selector inside the search: the rows' papers, ``doc_ids``, are not known here)."""
        if doc_ids is not None and positions is None:
            raise ValueError("FAISS filters by row: pass the papers' positions with doc_ids")
        rows = None if positions is None else np.unique(np.asarray(positions, dtype=np.int64))
        k = min(k, self.size if rows is None else len(rows))
        if k <= 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        with _faiss_threads(1 if len(queries) <= _SMALL_BATCH else None):
            if rows is None:
                return self.index.search(queries, k)
            if self.kind != "flat" and len(rows) <= _EXACT_ROWS:
                return _exact(self.vectors(rows), rows, queries, k)
            selector = faiss.IDSelectorBatch(rows)  # kept alive for the whole search
            return self.index.search(queries, k, params=self._params(selector, k))

    def _params(self, selector: Any, k: int) -> Any:
        """Search parameters carrying ``selector``; an approximate index keeps its own
        ``nprobe`` / ``efSearch`` (a parameters object replaces them, defaults included)."""
        lib: Any = faiss  # the type stubs lack the parameter classes' fields
        params: Any
        if isinstance(self.index, faiss.IndexIVF):
            params = lib.SearchParametersIVF()
            params.nprobe = int(self.index.nprobe)
        elif isinstance(self.index, faiss.IndexHNSW):
            params = lib.SearchParametersHNSW()
            params.efSearch = max(int(self.index.hnsw.efSearch), k)
        else:
            params = lib.SearchParameters()
        params.sel = selector
        return params

    def vectors(self, positions: np.ndarray | None = None) -> np.ndarray:
        if positions is None:
            if self.size == 0:
                return np.zeros((0, self.dimension), dtype=np.float32)
            return self.index.reconstruct_n(0, self.size)
        keys = np.ascontiguousarray(positions, dtype=np.int64)
        if len(keys) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.index.reconstruct_batch(keys)  # one C++ call, not a Python loop

    def extended(self, vectors: np.ndarray, settings: StoreSettings) -> FaissVectorStore:
        """A new store holding this one's rows then ``vectors``; this one is left untouched.

        When the index type the settings pick for the new size is this one's, the index is
        copied and the new rows added (an IVF keeps its trained lists); otherwise it is built
        again, so a corpus that outgrows exact search moves to an approximate index.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if self._fits(self.size + len(vectors), settings):
            index = self._private_copy()
            if index is not None:
                if len(vectors):
                    index.add(vectors)
                return FaissVectorStore(index)
        return FaissVectorStore.build(np.vstack([self.vectors(), vectors]), settings)

    def _private_copy(self) -> faiss.Index | None:
        """A writable copy: FAISS cannot clone (or add to) memory-mapped lists, so a mapped
        index is read again from its file, whole (None if that file has gone: build anew)."""
        if self.mapped_from is None:
            return faiss.clone_index(self.index)
        try:
            return faiss.read_index(str(self.mapped_from))
        except RuntimeError:
            return None

    def _fits(self, n: int, settings: StoreSettings) -> bool:
        if n <= settings.hnsw_threshold:
            return self.kind == "flat"
        if settings.ann == "hnsw":
            return self.kind == "hnsw"
        return self.kind == "ivf" and int(getattr(self.index, "nlist", 0)) == ivf_lists(n, settings)

    def describe(self, index_dir: Path) -> dict[str, Any]:
        """The manifest's ``store`` entry."""
        return {"backend": "faiss", "file": "vectors.faiss", "index": self.kind}

    def save(self, path: Path) -> None:
        if self.mapped_from is not None:  # FAISS would write a pointer to the mapped file
            shutil.copyfile(self.mapped_from, path)
            return
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> FaissVectorStore:
        """Open a saved index. An IVF's lists are memory-mapped read-only rather than read:
        opening a 1M-chunk index (1.5 GB) then costs milliseconds, its pages are read on
        demand and shared by every process serving the same generation (generation files are
        never rewritten in place). Exact and HNSW indexes are read whole (FAISS ignores the
        flag for them)."""
        mapped: Path | None = path
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError:  # a platform or file FAISS cannot map: read it whole (or fail so)
            index, mapped = faiss.read_index(str(path)), None
        if not isinstance(index, faiss.IndexIVF):
            return cls(index)
        if index.direct_map.type == 0:
            index.make_direct_map()  # an IVF written elsewhere: rows must be reconstructible
        return cls(index, mapped_from=mapped)


def _exact(
    vectors: np.ndarray, rows: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top ``k`` of ``rows`` (whose vectors are given), best first, ties by row."""
    scores = queries @ vectors.T
    out_s = np.empty((len(queries), k), np.float32)
    out_i = np.empty((len(queries), k), np.int64)
    for q, row in enumerate(scores):
        order = np.lexsort((rows, -row))[:k]
        out_s[q], out_i[q] = row[order], rows[order]
    return out_s, out_i


@contextmanager
def _faiss_threads(n: int | None) -> Iterator[None]:
    """OpenMP threads for FAISS calls made from this thread (None: leave as is)."""
    before = faiss.omp_get_max_threads()
    if n is None or n == before:
        yield
        return
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def ivf_lists(n: int, settings: StoreSettings) -> int:
    """IVF list count: the power of two nearest sqrt(n) (1024 at 1M), unless set."""
    if settings.ivf_nlist:
        return settings.ivf_nlist
    return int(2 ** round(math.log2(max(n, 1) ** 0.5)))


def _trained_ivf(vectors: np.ndarray, nlist: int, nprobe: int) -> faiss.IndexIVFFlat:
    """An empty IVF whose centroids are trained on a fixed-seed sample (50 per list)."""
    dim = vectors.shape[1]
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = min(len(vectors), nlist * 50)
    rows = np.random.default_rng(0).choice(len(vectors), sample, replace=False)
    index.train(vectors[np.sort(rows)])
    index.nprobe = nprobe
    index.make_direct_map()  # lets MMR and incremental ingest read rows back
    return index
