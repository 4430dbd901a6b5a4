"""What an index generation holds: paper and chunk records, the snapshot, the store protocols.

Every other store module and the retriever speak these types; none of them imports a backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .layout import ChunkLayout

if TYPE_CHECKING:
    from .sentences import SentenceTable

# 2: papers are records with a source (corpus | path | upload) and a path-derived id
# 3: chunks and paper texts are tables read on demand (chunk_table); format 2 still loads
FORMAT_VERSION = 3
PaperSource = Literal["corpus", "path", "upload"]
LEXICAL_DIR = "bm25"  # the keyword index inside a generation folder (optional: rebuilt if absent)


@dataclass
class DocRecord:
    """Everything kept about one indexed (or aliased) paper."""

    doc_id: str
    path: str
    title: str
    content_hash: str
    kind: str = "txt"
    source: PaperSource = "corpus"  # how it came in: a plain ingest only re-syncs "corpus"
    authors: list[str] = field(default_factory=list)
    affiliation: str = ""
    year: int | None = None
    clean_text: str = ""
    sections: list[list[Any]] = field(default_factory=list)  # [title, start, end]
    segments: list[list[int]] = field(default_factory=list)  # [clean_start, raw_start, length]
    references_raw_start: int | None = None
    minhash: list[int] = field(default_factory=list)
    quality: float = 0.0  # prefers the cleaner rendering as canonical
    alias_of: str | None = None  # set for a duplicate rendering: not indexed itself
    aliases: list[str] = field(default_factory=list)
    version_group: str | None = None
    version: str | None = None  # "earlier" | "revised" as the catalog states
    page_starts: list[int] = field(default_factory=list)  # PDFs: raw offset of each page
    # what cleaning removed: raw_words, kept_words, kept_share, removed {reason: chars}, warning
    cleaning: dict[str, Any] = field(default_factory=dict)
    chunk_count: int = 0
    tokens: int = 0


@dataclass(frozen=True)
class ChunkRecord:
    chunk_id: str
    doc_id: str
    ordinal: int
    section: str
    text: str
    start: int
    end: int
    tokens: int


class VectorStore(Protocol):
    """What retrieval and ingest need from a vector index: FAISS here, a server-side store
    (a vector database) elsewhere. Row ``i`` is chunk ``i`` of the snapshot; vectors are
    L2-normalised, so scores are inner products. Retrieval uses only ``search``, ``vectors``
    and ``size``; ``make_vector_store`` (ingest) and ``_open_store`` (load) pick the backend.

    ``search`` may be restricted to some papers, inside the store rather than by fetching
    more and dropping the rest: the retriever passes both ``positions`` (those papers' rows,
    sorted) and ``doc_ids`` (the papers), and a store filters by whichever it indexes (FAISS
    an id selector over the rows, a vector database a filter expression on ``doc_id``).
    Positions are -1 where fewer than ``k`` rows match.
    """

    @property
    def size(self) -> int: ...

    @property
    def kind(self) -> str: ...

    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        positions: np.ndarray | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self, positions: np.ndarray | None = None) -> np.ndarray: ...

    def describe(self, index_dir: Path) -> dict[str, Any]: ...


class LexicalIndex(Protocol):
    """A keyword index saved inside the generation folder beside the vectors (see retrieval)."""

    size: int

    def save(self, path: Path) -> None: ...


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EmbeddingInfo(_Model):
    model: str = Field(min_length=1)
    dimension: int = Field(gt=0)
    max_seq_length: int = Field(0, ge=0)


class PaperEntry(_Model):
    """One paper as the manifest lists it: enough to check it against its file."""

    content_hash: str
    source: PaperSource
    path: str


class Manifest(_Model):
    """``manifest.json``: what a generation was built from, validated whenever it is read.

    A load compares it with the vectors (dimension, count) and the settings (model, chunking),
    so every mismatch is found up front and reported as one line with the fix.
    """

    format_version: int
    package_version: str = ""
    embedding: EmbeddingInfo
    chunking: dict[str, Any]
    papers: dict[str, PaperEntry]
    chunk_count: int = Field(ge=0)
    index_type: str
    store: dict[str, Any] = Field(default_factory=lambda: {"backend": "faiss"})
    built_at: str
    sentence_count: int | None = Field(None, ge=0)  # rows of the sentence table, if it has one

    @property
    def backend(self) -> str:
        return str(self.store.get("backend", "faiss"))

    @property
    def fingerprint(self) -> str | None:
        value = self.chunking.get("fingerprint")
        return str(value) if value is not None else None


@dataclass
class IndexSnapshot:
    """One loaded generation: immutable once built; ingest makes a new one.

    ``lexical`` is the keyword index: built by ingest and saved with the generation, or
    loaded (memory-mapped) from it by the retriever on first use.
    """

    manifest: Manifest | None  # None only for the empty snapshot a first ingest starts from
    documents: dict[str, DocRecord]
    chunks: Sequence[ChunkRecord]  # a list, or a ChunkTable read from disk on demand
    store: VectorStore
    path: Path | None = None
    lexical: LexicalIndex | None = None
    notice: str | None = None  # set when the live generation was unreadable and an older one loaded
    sentences: SentenceTable | None = None  # sentence vectors made at ingest (see sentences.py)

    @property
    def indexed_documents(self) -> list[DocRecord]:
        return [d for d in self.documents.values() if d.alias_of is None]

    @cached_property
    def layout(self) -> ChunkLayout:
        """Each chunk's paper and each paper's chunks, without reading every chunk."""
        return ChunkLayout.of(self.chunks)
