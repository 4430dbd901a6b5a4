"""The read side of papers: what ``index-info`` and the UI list, and whether the index is stale.

A paper comes from the bundled corpus folder, from a path given to ``assistant ingest``, or from
an upload (see ``ingest.sources`` for ids). A plain ingest re-syncs the corpus and refreshes
changed files, but only ``remove`` ever drops a paper given by path or upload.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import PaperNotFoundError
from .ingest.sources import bundled_files, file_state, paper_id
from .settings import Settings
from .store import DocRecord, IndexSnapshot
from .store.records import PaperSource


@dataclass(frozen=True)
class PaperInfo:
    """One paper as ``index-info`` and the UI list it (no index internals)."""

    doc_id: str
    title: str
    source: PaperSource
    path: str
    state: str  # ok | changed | file missing
    chunks: int = 0
    tokens: int = 0
    authors: tuple[str, ...] = ()
    year: int | None = None
    alias_of: str | None = None
    aliases: tuple[str, ...] = ()
    version_group: str | None = None
    version: str | None = None
    kept_share: float | None = None  # of the file's text, after cleaning (None: not recorded)
    removed: dict[str, int] = field(default_factory=dict)  # reason -> characters removed
    warning: str | None = None  # when cleaning removed most of the file


@dataclass
class IndexStatus:
    exists: bool
    stale: bool = False
    reasons: list[str] = field(default_factory=list)
    fix: str = "assistant ingest"

    @property
    def message(self) -> str:
        if not self.exists:
            return "no index yet: run `assistant ingest` (the app builds it on first start)"
        if not self.stale:
            return "index is up to date"
        return f"index is stale ({'; '.join(self.reasons)}): run `{self.fix}`"


@dataclass(frozen=True)
class IndexInfo:
    """What ``Assistant.info()`` reports: the index, every paper with its source, the status."""

    path: str
    model: str
    dimension: int
    chunks: int
    index_type: str
    built_at: str
    papers: list[PaperInfo]
    status: IndexStatus
    notice: str | None = None  # e.g. an older generation loaded because the live one is damaged


def paper_info(doc: DocRecord) -> PaperInfo:
    return PaperInfo(
        doc_id=doc.doc_id,
        title=doc.title,
        source=doc.source,
        path=doc.path,
        state=file_state(doc),
        chunks=doc.chunk_count,
        tokens=doc.tokens,
        authors=tuple(doc.authors),
        year=doc.year,
        alias_of=doc.alias_of,
        aliases=tuple(doc.aliases),
        version_group=doc.version_group,
        version=doc.version,
        kept_share=doc.cleaning.get("kept_share"),
        removed=dict(doc.cleaning.get("removed") or {}),
        warning=doc.cleaning.get("warning"),
    )


def index_info(snapshot: IndexSnapshot, settings: Settings, embedder_name: str) -> IndexInfo:
    papers = [paper_info(d) for d in sorted(snapshot.documents.values(), key=lambda d: d.doc_id)]
    status = index_status(snapshot, settings, embedder_name, papers)
    m = snapshot.manifest
    return IndexInfo(
        path=str(snapshot.path or settings.paths.index_dir),
        model=m.embedding.model if m else embedder_name,
        dimension=m.embedding.dimension if m else 0,
        chunks=len(snapshot.chunks),
        index_type=m.index_type if m else "flat",
        built_at=m.built_at if m else "",
        papers=papers,
        status=status,
        notice=snapshot.notice,
    )


def index_status(
    snapshot: IndexSnapshot | None,
    settings: Settings,
    embedder_name: str,
    papers: list[PaperInfo] | None = None,
) -> IndexStatus:
    """Compare an index with its papers' files and the settings; say what changed.

    Every paper is checked, whatever its source; a paper whose file is gone is only reported
    (its text is in the index and stays until ``assistant remove``).
    """
    if snapshot is None or snapshot.manifest is None:
        return IndexStatus(exists=False)
    m = snapshot.manifest
    reasons: list[str] = []
    rebuild = False
    if m.embedding.model != embedder_name:
        reasons.append(f"built with embedding model {m.embedding.model}")
        rebuild = True
    if m.fingerprint != settings.chunking.fingerprint():
        reasons.append("chunking settings changed")
    elif "sentence_vectors" not in m.chunking:
        reasons.append("sentence vectors made by an older version")
    if m.backend != settings.store.backend:
        reasons.append(f"vectors in {m.backend}, settings say {settings.store.backend}")
    if papers is None:
        papers = [paper_info(d) for d in snapshot.documents.values()]
    indexed = {p.doc_id for p in papers if p.source == "corpus"}
    on_disk = {paper_id(p, "corpus", settings) for p in bundled_files(settings)}
    new = sorted(on_disk - indexed)
    gone = sorted(p.doc_id for p in papers if p.source == "corpus" and p.state == "file missing")
    changed = sorted(p.doc_id for p in papers if p.state == "changed")
    for label, names in (
        ("new in corpus", new),
        ("removed from corpus", gone),
        ("changed", changed),
    ):
        if names:
            reasons.append(f"{label}: {', '.join(names[:5])}")
    fix = "assistant ingest --rebuild" if rebuild else "assistant ingest"
    return IndexStatus(exists=True, stale=bool(reasons), reasons=reasons, fix=fix)


def resolve_paper(target: str | Path, documents: Iterable[DocRecord]) -> str:
    """The id of the paper ``target`` names: an id, or the path it was ingested from."""
    docs = list(documents)
    text = str(target)
    if any(d.doc_id == text for d in docs):
        return text
    resolved = str(Path(text).expanduser().resolve())
    for d in docs:
        if d.path == resolved:
            return d.doc_id
    raise PaperNotFoundError(
        f"no indexed paper has the id or path {text!r}: `assistant index-info` lists them"
    )
