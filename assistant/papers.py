"""Papers as records: where each came from, its stable id, and whether it still matches its file.

A paper comes from the bundled corpus folder, from a path given to ``assistant ingest``, or from
an upload. Bundled papers keep their corpus file name as id (gold sets cite them); any other
paper's id adds a short hash of its full path, so ``a/notes.txt`` and ``b/notes.txt`` are two
papers. A plain ingest re-syncs the corpus and refreshes changed files, but only ``remove``
ever drops a paper given by path or upload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .corpus.loading import SUPPORTED
from .errors import PaperNotFoundError
from .settings import Settings
from .store import DocRecord, IndexSnapshot
from .store.records import PaperSource

if TYPE_CHECKING:
    from .core import Assistant
    from .indexing import Progress


def corpus_files(corpus_dir: Path, exclude: Path | None = None) -> list[Path]:
    """Every paper under the corpus folder (not under ``exclude``), in a stable order."""
    if not corpus_dir.is_dir():
        return []
    skip = exclude.resolve() if exclude is not None else None
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED
        and not p.name.startswith(".")
        and (skip is None or not p.resolve().is_relative_to(skip))
    )


def bundled_files(settings: Settings) -> list[Path]:
    """The bundled corpus: the corpus folder without the uploads kept inside it."""
    return corpus_files(settings.paths.corpus_dir, exclude=settings.paths.uploads_dir)


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders replaced by the supported papers anywhere inside them."""
    out: list[Path] = []
    for p in paths:
        out.extend(corpus_files(p) if Path(p).is_dir() else [Path(p)])
    return list(dict.fromkeys(out))


def source_of(path: Path, settings: Settings) -> PaperSource:
    resolved = Path(path).resolve()
    if resolved.is_relative_to(settings.paths.uploads_dir.resolve()):
        return "upload"
    if resolved.is_relative_to(settings.paths.corpus_dir.resolve()):
        return "corpus"
    return "path"


def paper_id(path: Path, source: PaperSource, settings: Settings) -> str:
    """The stable id: the corpus-relative name for bundled papers, name + path hash otherwise."""
    resolved = Path(path).resolve()
    if source == "corpus":
        return resolved.relative_to(settings.paths.corpus_dir.resolve()).as_posix()
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{resolved.stem}-{digest}{resolved.suffix}"


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def file_state(doc: DocRecord) -> str:
    """``ok``, ``changed`` (the file differs from what is indexed) or ``file missing``."""
    try:
        return "ok" if file_hash(Path(doc.path)) == doc.content_hash else "changed"
    except OSError:
        return "file missing"


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


def discard_uploads(removed: Iterable[DocRecord], settings: Settings) -> None:
    """Delete the saved files of removed uploads: the uploads folder mirrors the index."""
    uploads = settings.paths.uploads_dir.resolve()
    for doc in removed:
        path = Path(doc.path)
        if doc.source == "upload" and path.resolve().is_relative_to(uploads):
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class UploadResult:
    """What became of one upload: ``level`` is success, warning or error."""

    name: str
    level: str
    message: str
    doc_id: str | None = None


def safe_upload_name(name: str) -> str:
    """The bare file name of an upload: no folders, no leading dots."""
    return Path(name.replace("\\", "/")).name.lstrip(".").strip()


def add_upload(
    bot: Assistant, name: str, data: bytes, progress: Progress | None = None
) -> UploadResult:
    """Save ``data`` as ``uploads_dir/name`` (never overwriting) and index it; a file that is
    not indexed (unreadable, a duplicate) does not stay behind."""
    clean = safe_upload_name(name)
    uploads = bot.settings.paths.uploads_dir
    path = uploads / clean
    if not clean or Path(clean).suffix.lower() not in SUPPORTED:
        kinds = ", ".join(SUPPORTED)
        return UploadResult(name, "error", f"{name}: unsupported type, upload one of {kinds}")
    try:
        uploads.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as out:  # x: never overwrite a file saved meanwhile
            out.write(data)
    except FileExistsError:
        return UploadResult(clean, "warning", f"{clean}: already uploaded; rename it to add it")
    except OSError as e:
        return UploadResult(clean, "error", f"{clean}: could not save to {uploads}: {e}")
    try:
        report = bot.add_documents([path], progress=progress)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    doc_id = paper_id(path, "upload", bot.settings)
    key = str(path)
    if key in report.errors:
        path.unlink(missing_ok=True)
        return UploadResult(clean, "error", f"{clean}: {report.errors[key]}")
    if key in report.duplicates:
        path.unlink(missing_ok=True)
        return UploadResult(
            clean, "warning", f"{clean}: same file as {report.duplicates[key]}; skipped"
        )
    if doc_id in report.aliases:
        return UploadResult(
            clean, "warning", f"{clean}: same text as {report.aliases[doc_id]}", doc_id
        )
    doc = bot.snapshot.documents.get(doc_id)
    chunks = doc.chunk_count if doc else 0
    noun = "chunk" if chunks == 1 else "chunks"
    return UploadResult(clean, "success", f"Indexed {clean} ({chunks} {noun}): ask away", doc_id)
