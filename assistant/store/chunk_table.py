"""Chunk and paper records kept on disk and read on demand, not parsed at load.

At a million chunks, parsing ``chunks.jsonl`` and ``documents.json`` into Python objects took
most of a 20 s load and half of the 4.9 GB a serving process held (bench/README.md). A query
needs the ~40 chunks it ranks and the few papers it quotes, so a generation (format 3) keeps:

- ``chunks.jsonl``: one chunk per line as before (readable with any tool), plus
  ``chunks.offsets.npy`` (int64 byte offset of each line, then the file size): chunk ``i`` is
  one ``pread`` and one ``json.loads``;
- ``chunks.doc.npy`` (int32: the paper of each chunk, an index into ``tables.json``'s
  ``doc_ids``), ``chunks.start.npy`` (int64 start offsets) and ``chunks.by_doc.npy`` /
  ``chunks.doc_ptr.npy`` (positions grouped by paper, sorted by start): what the retriever and
  the answerer ask of every chunk (its paper; a paper's chunks), memory-mapped;
- ``papers.json``: each paper's light fields (title, authors, path...) and its title block
  (the text before its first section: every question lists every paper's authors), loaded
  eagerly; ``papers.jsonl`` + ``papers.offsets.npy``: each paper's heavy
  fields (clean text, sections, segments, MinHash), one line each, read when first needed and
  kept in a small LRU cache;
- ``tables.json``: the format, the counts and the papers' ids. Each offsets file ends with its
  data file's size, checked at load, so a truncated file makes the generation unreadable there
  (recovery then loads an older one), not at question time; a row garbled in place is found
  by the generation's checksums (``checksums``), or else when read, as one line saying to
  rebuild.

Why not SQLite (stdlib, one file, rows by rowid): these files stay readable with ``head`` and
``jq``, the per-chunk arrays are numpy (vectorised, memory-mapped), and a read-only shared
index folder needs no database locking. Measured on 200k chunks (a loaded 2-core machine):
40 random rows in 1.9 ms here against 2.0 ms from SQLite, writing 15 s against 34 s. Nothing
is pickled.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, overload

import numpy as np

from ..corpus.front_matter import offsets, read_offsets, stored_offsets, title_block
from ..errors import IndexIncompatibleError
from .files import fsync
from .layout import ChunkLayout, group_by_doc
from .records import ChunkRecord, DocRecord

TABLES = "tables.json"
CHUNKS = "chunks.jsonl"
PAPERS = "papers.json"
PAPER_TEXTS = "papers.jsonl"
HEAVY = ("clean_text", "sections", "segments", "minhash")  # read per paper on demand
_CACHED_PAPERS = 64  # decoded papers kept: an answer quotes a handful
_FORMAT = 1
_REBUILD = "run `assistant ingest --rebuild`"
_CHUNK_FIELDS = tuple(f.name for f in fields(ChunkRecord))
_LIGHT = tuple(f.name for f in fields(DocRecord) if f.name not in HEAVY)


class ChunkTable(Sequence[ChunkRecord]):
    """A generation's chunks: ``len``, ``table[i]``, slices and iteration, read from disk."""

    def __init__(self, folder: Path, count: int, doc_ids: list[str]) -> None:
        self.path = folder / CHUNKS
        self._offsets = _array(folder, "chunks.offsets", count + 1, np.int64)
        self._data = _Rows(self.path, int(self._offsets[-1]))
        self.layout = ChunkLayout(
            doc_ids,
            _array(folder, "chunks.doc", count, np.int32),
            _array(folder, "chunks.start", count, np.int64),
            _array(folder, "chunks.by_doc", count, np.int32),
            _array(folder, "chunks.doc_ptr", len(doc_ids) + 1, np.int64),
        )
        self._count = count
        if count:
            self[count - 1]  # the last line parses: the file is whole

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, i: int) -> ChunkRecord: ...

    @overload
    def __getitem__(self, i: slice) -> list[ChunkRecord]: ...

    def __getitem__(self, i: int | slice) -> ChunkRecord | list[ChunkRecord]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._count))]
        j = int(i) + self._count if i < 0 else int(i)
        if not 0 <= j < self._count:
            raise IndexError(f"chunk {i} of {self._count}")
        a, b = int(self._offsets[j]), int(self._offsets[j + 1])
        try:
            return ChunkRecord(**json.loads(self._data[a:b]))
        except (ValueError, TypeError) as e:
            raise IndexIncompatibleError(
                f"chunk {j} in {self.path} is unreadable ({type(e).__name__}): {_REBUILD}"
            ) from e

    def __iter__(self) -> Iterator[ChunkRecord]:
        for j in range(self._count):
            yield self[j]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]


class PaperTexts:
    """The heavy fields of a generation's papers, one JSON line each, decoded on demand."""

    def __init__(self, folder: Path, count: int) -> None:
        self.path = folder / PAPER_TEXTS
        self._offsets = _array(folder, "papers.offsets", count + 1, np.int64)
        self._data = _Rows(self.path, int(self._offsets[-1]))
        self.fields = functools.lru_cache(maxsize=_CACHED_PAPERS)(self._read)

    def _read(self, row: int) -> dict[str, Any]:
        a, b = int(self._offsets[row]), int(self._offsets[row + 1])
        try:
            found = json.loads(self._data[a:b])
            return {k: found[k] for k in HEAVY}
        except (ValueError, TypeError, KeyError) as e:
            raise IndexIncompatibleError(
                f"paper {row} in {self.path} is unreadable ({type(e).__name__}): {_REBUILD}"
            ) from e


class _Lazy:
    """A heavy DocRecord field: its own value once set, else read from the paper's line."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, doc: StoredDocRecord | None, owner: type | None = None) -> Any:
        if doc is None:
            return self
        try:
            return doc.__dict__[self.name]
        except KeyError:
            return doc._texts.fields(doc._row)[self.name]

    def __set__(self, doc: StoredDocRecord, value: Any) -> None:
        doc.__dict__[self.name] = value


class StoredDocRecord(DocRecord):
    """A paper of a stored generation: light fields in memory, text read when first used."""

    clean_text = _Lazy()  # type: ignore[assignment]
    sections = _Lazy()  # type: ignore[assignment]
    segments = _Lazy()  # type: ignore[assignment]
    minhash = _Lazy()  # type: ignore[assignment]
    title_block: str | None  # the text before the first section: authors without the text
    front_offsets: list[tuple[str, int, int]] | None  # front matter found at ingest
    _texts: PaperTexts
    _row: int

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DocRecord):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(DocRecord))

    __hash__ = None  # type: ignore[assignment]


def write_tables(
    documents: Mapping[str, DocRecord], chunks: Sequence[ChunkRecord], folder: Path
) -> None:
    """Write the chunk and paper tables of a generation into ``folder`` (fsynced)."""
    light: dict[str, dict[str, Any]] = {}
    with open(folder / PAPER_TEXTS, "wb") as f:
        ends = [0]
        for doc_id, doc in documents.items():
            light[doc_id] = {k: getattr(doc, k) for k in _LIGHT}
            light[doc_id]["title_block"] = title_block(doc.clean_text, doc.sections)
            light[doc_id]["front_matter"] = _front_matter(doc)
            line = {"doc_id": doc_id, **{k: getattr(doc, k) for k in HEAVY}}
            ends.append(ends[-1] + _write_line(f, line))
        fsync(f)
    _save(folder, "papers.offsets", np.asarray(ends, dtype=np.int64))
    with open(folder / PAPERS, "w", encoding="utf-8") as t:
        json.dump(light, t, ensure_ascii=False, indent=0)
        fsync(t)
    index: dict[str, int] = {}
    doc_of: list[int] = []
    starts: list[int] = []
    with open(folder / CHUNKS, "wb") as f:
        offsets = [0]
        for c in chunks:
            offsets.append(offsets[-1] + f.write(_line({k: getattr(c, k) for k in _CHUNK_FIELDS})))
            doc_of.append(index.setdefault(c.doc_id, len(index)))
            starts.append(c.start)
        fsync(f)
    docs, begin = np.asarray(doc_of, dtype=np.int32), np.asarray(starts, dtype=np.int64)
    by_doc, doc_ptr = group_by_doc(docs, begin, len(index))
    arrays: dict[str, np.ndarray] = {
        "chunks.offsets": np.asarray(offsets, dtype=np.int64),
        "chunks.doc": docs,
        "chunks.start": begin,
        "chunks.by_doc": by_doc,
        "chunks.doc_ptr": doc_ptr,
    }
    for name, array in arrays.items():
        _save(folder, name, array)
    meta = {"format": _FORMAT, "chunks": len(offsets) - 1, "papers": len(light)}
    with open(folder / TABLES, "w", encoding="utf-8") as t:
        json.dump({**meta, "doc_ids": list(index)}, t, ensure_ascii=False)
        fsync(t)


def _front_matter(doc: DocRecord) -> dict[str, Any]:
    """The paper's front-matter offsets: a stored paper's own (its text unchanged), else found."""
    kept = getattr(doc, "front_offsets", None)
    if kept is None or any(name in doc.__dict__ for name in HEAVY):
        kept = offsets(doc.clean_text, doc.sections)
    return stored_offsets(kept)


def read_tables(folder: Path) -> tuple[dict[str, DocRecord], ChunkTable]:
    """The papers (light fields loaded, texts on demand) and chunks of a generation.

    Raise ``IndexIncompatibleError`` when a table is missing, truncated or from another format.
    """
    documents = read_papers(folder)
    try:
        meta = _meta(folder)
        chunks = ChunkTable(folder, int(meta["chunks"]), list(meta["doc_ids"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        raise _unreadable(folder, e) from e
    return documents, chunks


def read_papers(folder: Path, counted: bool = True) -> dict[str, DocRecord]:
    """A generation's papers (texts read on demand) without its chunks: a rebuild starts from
    them even when the chunk table is damaged. ``counted`` False: without ``tables.json``
    (recovery, once the paper files passed their checksums)."""
    try:
        light = json.loads((folder / PAPERS).read_text(encoding="utf-8"))
        if counted and len(light) != (meta := _meta(folder))["papers"]:
            raise ValueError(f"{PAPERS} lists {len(light)} papers, {TABLES} {meta['papers']}")
        texts = PaperTexts(folder, len(light))
        documents: dict[str, DocRecord] = {}
        for row, (doc_id, values) in enumerate(light.items()):
            head = values.pop("title_block", None)
            front = read_offsets(values.pop("front_matter", None))
            doc = StoredDocRecord(**values)
            doc.title_block = head if isinstance(head, str) else None
            doc.front_offsets = front
            for name in HEAVY:
                doc.__dict__.pop(name, None)
            doc._texts, doc._row = texts, row
            documents[doc_id] = doc
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        raise _unreadable(folder, e) from e
    return documents


def salvage_papers(folder: Path) -> dict[str, DocRecord]:
    """The papers of a damaged table whose entry and text row still parse, read whole.

    Recovery keeps one only when its file is gone and no intact copy exists: a row garbled in
    place may still parse. A truncated ``papers.jsonl`` gives the rows before the cut.
    """
    try:
        light = json.loads((folder / PAPERS).read_text(encoding="utf-8"))
        ends = np.load(folder / "papers.offsets.npy", allow_pickle=False)
        texts = open(folder / PAPER_TEXTS, "rb")  # noqa: SIM115  (closed below)
    except (OSError, ValueError):
        return {}
    found: dict[str, DocRecord] = {}
    with texts:
        for row, (doc_id, values) in enumerate(dict(light).items()):
            try:
                a, b = int(ends[row]), int(ends[row + 1])
                heavy = json.loads(os.pread(texts.fileno(), b - a, a))
                if heavy["doc_id"] != doc_id:
                    continue
                kept = {k: v for k, v in values.items() if k in _LIGHT}
                found[doc_id] = DocRecord(**kept, **{k: heavy[k] for k in HEAVY})
            except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
                continue
    return found


def _meta(folder: Path) -> dict[str, Any]:
    meta = json.loads((folder / TABLES).read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(f"{TABLES} is not table format {_FORMAT}")
    return meta


def _unreadable(folder: Path, e: Exception) -> IndexIncompatibleError:
    return IndexIncompatibleError(
        f"index at {folder} is unreadable ({type(e).__name__}: {str(e).strip()[:200]}): {_REBUILD}"
    )


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


_STREAM = json.JSONEncoder(ensure_ascii=False)


def _write_line(f: Any, record: dict[str, Any]) -> int:
    """``_line`` written piece by piece: a 50 MB paper's text is not held three times over
    (the JSON string, the line with its newline, its bytes). Returns the bytes written."""
    written = sum(f.write(piece.encode("utf-8")) for piece in _STREAM.iterencode(record))
    return written + f.write(b"\n")


def _save(folder: Path, name: str, array: np.ndarray) -> None:
    with open(folder / f"{name}.npy", "wb") as f:
        np.save(f, array, allow_pickle=False)
        fsync(f)


def _array(folder: Path, name: str, length: int, dtype: type) -> np.ndarray:
    """A memory-mapped ``.npy`` of the expected length and type, else ValueError."""
    path = folder / f"{name}.npy"
    array = np.load(path, mmap_mode="r", allow_pickle=False)
    if array.shape != (length,) or array.dtype != np.dtype(dtype):
        raise ValueError(f"{path.name} holds {array.dtype}{array.shape}, expected {length} rows")
    return array


class _Rows:
    """One open file read by byte range with ``pread``: thread-safe, and unlike a memory map
    the pages read stay in the page cache, not in the serving process's resident memory.

    The open file outlives its name: a reader keeps working after a newer ingest prunes it.
    """

    def __init__(self, path: Path, size: int) -> None:
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115  (held for the table's life)
        actual = os.fstat(self._file.fileno()).st_size
        if actual != size:
            self._file.close()
            raise ValueError(f"{path.name} is {actual} bytes, its offsets say {size}")

    def __getitem__(self, span: slice) -> bytes:
        return os.pread(self._file.fileno(), span.stop - span.start, span.start)

    def __del__(self) -> None:
        file = getattr(self, "_file", None)
        if file is not None:
            file.close()
