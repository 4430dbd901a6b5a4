"""Sentence vectors made at ingest, so an answer costs one question encoding plus dot products.

The extractive answerer scores every sentence of the retrieved chunks against the question;
embedding them at question time made a first ``ask`` 64 ms p50 on the bundled corpus. Ingest
embeds them once instead (through the same cached embedder as the chunks) and the generation
folder keeps them beside the chunk vectors:

- ``sentence_vectors.npy``: float32 ``[u, dim]``, one row per distinct sentence text (versions
  of a paper share most sentences, overlapping chunks share their edge sentences);
- ``sentence_spans.npy``: int64 ``[m, 3]`` rows ``(start, end, vector row)``: every span
  ``sentence_spans(doc.clean_text, chunk.start, chunk.end)`` of every chunk, once per paper,
  grouped by paper (papers in ``doc_id`` order), sorted by ``(start, end)`` within one;
- ``sentence_docs.json``: ``{"doc_ids": [...], "offsets": [...]}``, the rows of paper ``i``
  being ``offsets[i]:offsets[i + 1]``.

Rows are keyed by paper and character span, not by chunk position, so the answerer looks a
candidate sentence up by what it already has (``doc_id, start, end``), and an incremental
ingest keeps a kept paper's rows as they are. Both arrays load memory-mapped; the manifest's
``sentence_count`` (``m``) is checked against them on load. An index without the table (built
before it existed) loads too: the answerer then embeds at question time, as it used to.
"""

from __future__ import annotations

import functools
import json
from array import array as int_array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..sentences import sentence_spans
from .files import fsync, write_json
from .records import ChunkRecord, DocRecord, Manifest

VECTORS_FILE = "sentence_vectors.npy"
SPANS_FILE = "sentence_spans.npy"
DOCS_FILE = "sentence_docs.json"

Embed = Callable[[Sequence[str]], np.ndarray]
_INDEXED_PAPERS = 256  # papers whose span -> row index is kept (a few hundred spans each)


@dataclass
class SentenceTable:
    """Stored vectors of the sentences of every chunk, looked up by ``(doc_id, start, end)``.

    >>> table = SentenceTable.build(documents, chunks, embedder.embed, dimension=384)
    >>> table.lookup([("paper.txt", 120, 245)])   # (vectors [n, dim], found [n] bool)
    """

    doc_ids: list[str]
    offsets: np.ndarray  # int64 [len(doc_ids) + 1]
    spans: np.ndarray  # int64 [m, 3]: start, end, vector row
    vectors: np.ndarray  # float32 [u, dim], L2-normalised like every vector of the index
    _rows: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _span_rows: Callable[[str], dict[tuple[int, int], int]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._rows = {d: i for i, d in enumerate(self.doc_ids)}
        # (start, end) -> row per paper, built on a paper's first lookup: an answer looks up
        # the sentences of the same few papers again and again
        self._span_rows = functools.lru_cache(maxsize=_INDEXED_PAPERS)(self._index_spans)

    @property
    def size(self) -> int:
        """Spans stored (the manifest's ``sentence_count``)."""
        return int(len(self.spans))

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    def doc_spans(self, doc_id: str) -> np.ndarray:
        """The ``(start, end, vector row)`` rows of one paper (empty when it has none)."""
        i = self._rows.get(doc_id)
        if i is None:
            return np.zeros((0, 3), np.int64)
        return self.spans[int(self.offsets[i]) : int(self.offsets[i + 1])]

    def lookup(self, keys: Sequence[tuple[str, int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of the spans ``keys`` (zeros where absent) and which ones were found."""
        rows = np.full(len(keys), -1, np.int64)
        for n, (doc_id, start, end) in enumerate(keys):
            rows[n] = self._span_rows(doc_id).get((start, end), -1)
        found = rows >= 0
        out = np.zeros((len(keys), self.dimension), np.float32)
        if found.any():
            out[found] = self.vectors[rows[found]]
        return out, found

    def _index_spans(self, doc_id: str) -> dict[tuple[int, int], int]:
        return {(a, b): r for a, b, r in self.doc_spans(doc_id).tolist()}

    def save(self, folder: Path) -> None:
        """Write the three files into a generation folder being built (fsynced)."""
        for name, array in ((VECTORS_FILE, self.vectors), (SPANS_FILE, self.spans)):
            with open(folder / name, "wb") as f:
                np.save(f, np.ascontiguousarray(array), allow_pickle=False)
                fsync(f)
        write_json(folder / DOCS_FILE, {"doc_ids": self.doc_ids, "offsets": self.offsets.tolist()})

    @classmethod
    def load(cls, folder: Path, count: int, dimension: int) -> SentenceTable:
        """Open the table memory-mapped; ``ValueError`` when it disagrees with the manifest."""
        spans = np.load(folder / SPANS_FILE, mmap_mode="r", allow_pickle=False)
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r", allow_pickle=False)
        raw = json.loads((folder / DOCS_FILE).read_text(encoding="utf-8"))
        doc_ids = [str(d) for d in raw["doc_ids"]]
        offsets = np.asarray(raw["offsets"], dtype=np.int64)
        if spans.ndim != 2 or spans.shape[1] != 3 or len(spans) != count:
            raise ValueError(
                f"{SPANS_FILE} holds {spans.shape} rows, the manifest says {count} sentences"
            )
        if vectors.ndim != 2 or vectors.shape[1] != dimension or vectors.dtype != np.float32:
            held = f"{vectors.shape[-1]}-d {vectors.dtype}" if vectors.ndim == 2 else vectors.shape
            raise ValueError(
                f"{VECTORS_FILE} holds {held} vectors, the index {dimension}-d float32"
            )
        if len(offsets) != len(doc_ids) + 1 or (len(offsets) and offsets[-1] != count):
            raise ValueError(f"{DOCS_FILE} offsets do not cover the {count} sentences")
        if count and int(spans[:, 2].max()) >= len(vectors):
            raise ValueError(f"{SPANS_FILE} points past the {len(vectors)} sentence vectors")
        return cls(doc_ids, offsets, spans, vectors)

    @classmethod
    def build(
        cls,
        documents: Mapping[str, DocRecord],
        chunks: Iterable[ChunkRecord],
        embed: Embed,
        dimension: int,
        old: SentenceTable | None = None,
        kept: Iterable[str] = (),
    ) -> SentenceTable:
        """The table of ``chunks``: papers in ``kept`` take their rows (and vectors) from
        ``old`` when it has them; every other sentence text is embedded by ``embed``, each
        distinct text once."""
        reuse = {d for d in kept if old is not None and len(old.doc_spans(d))}
        wanted: dict[str, set[tuple[int, int]]] = {}
        for c in chunks:
            spans = wanted.setdefault(c.doc_id, set())
            if c.doc_id not in reuse:
                spans.update(sentence_spans(documents[c.doc_id].clean_text, c.start, c.end))
        doc_ids = sorted(wanted)
        texts: dict[str, int] = {}
        source: list[int] = []  # per distinct text: its row in ``old``, or -1 to embed it
        rows = int_array("q")  # flat (start, end, row) triples: a 50 MB file has ~400k of them
        offsets = [0]
        for doc_id in doc_ids:
            clean = documents[doc_id].clean_text
            if old is not None and doc_id in reuse:  # a kept paper: its rows as stored
                triples: Iterable[tuple[int, int, int]] = map(tuple, old.doc_spans(doc_id).tolist())
            else:  # a generator: no second list of ~400k tuples for one large paper
                triples = ((a, b, -1) for a, b in sorted(wanted.pop(doc_id)))
            for a, b, from_old in triples:
                text = clean[a:b]
                u = texts.get(text)
                if u is None:
                    u = texts[text] = len(source)
                    source.append(from_old)
                elif source[u] < 0 <= from_old:
                    source[u] = from_old
                rows.extend((a, b, u))
            offsets.append(len(rows) // 3)
        del wanted
        origin = np.asarray(source, dtype=np.int64)
        if len(source) and (origin < 0).all():  # nothing to keep: take embed's array as is
            vectors = np.asarray(embed(list(texts)), dtype=np.float32)  # (no second copy)
        else:
            vectors = np.zeros((len(source), dimension), np.float32)
            if old is not None and (origin >= 0).any():
                vectors[origin >= 0] = old.vectors[origin[origin >= 0]]
            missing = [t for t, u in texts.items() if source[u] < 0]
            if missing:
                vectors[[texts[t] for t in missing]] = embed(missing)
        return cls(
            doc_ids,
            np.asarray(offsets, dtype=np.int64),
            np.frombuffer(rows, dtype=np.int64).reshape(-1, 3).copy(),
            vectors,
        )


def save_table(table: SentenceTable | None, folder: Path) -> None:
    """``save_snapshot``'s hook: write the table when the snapshot has one."""
    if table is not None:
        table.save(folder)


def load_table(folder: Path, manifest: Manifest, dimension: int | None) -> SentenceTable | None:
    """``load_snapshot``'s hook: the table the manifest announces (None for an older index),
    of the vector store's ``dimension`` (a store that disagrees with the manifest is reported
    by the store's own check)."""
    if manifest.sentence_count is None:
        return None
    dim = manifest.embedding.dimension if dimension is None else dimension
    return SentenceTable.load(folder, manifest.sentence_count, dim)
