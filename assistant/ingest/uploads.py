"""Uploaded papers: saved whole or not at all, indexed, and removed only if we stored them.

A save writes a hidden temporary file and links it to its name in one step, so a crash never
leaves half a paper under a real name; each stored name is appended to a ledger
(``uploads/.assistant-uploads.jsonl``). A file whose indexing was cut short (a crash, a full
disk) stays, and the next ingest indexes it (``pending_uploads``); uploading it again indexes
it too instead of refusing it. ``discard_uploads`` deletes only files the ledger lists with
the same bytes: a file the user put in the folder themselves is never deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..corpus.loading import SUPPORTED
from ..settings import Settings
from ..store.records import DocRecord
from .report import IngestReport
from .sources import file_hash, paper_id

LEDGER = ".assistant-uploads.jsonl"
_PARTIAL = ".partial-"


@dataclass(frozen=True)
class UploadResult:
    """What became of one upload: ``level`` is success, warning or error."""

    name: str
    level: str
    message: str
    doc_id: str | None = None


@dataclass(frozen=True)
class SavedUpload:
    name: str
    path: Path
    doc_id: str


def safe_upload_name(name: str) -> str:
    """The bare file name of an upload: no folders, no leading dots, no control characters."""
    bare = Path(name.replace("\\", "/").replace("\x00", "")).name
    bare = "".join(ch for ch in bare if ch.isprintable())
    return bare.lstrip(".").strip()


def save_upload(
    settings: Settings, name: str, data: bytes, indexed: Mapping[str, DocRecord]
) -> SavedUpload | UploadResult:
    """Store an upload under its name (never overwriting another file), or say why not."""
    clean = safe_upload_name(name)
    shown = clean or "the upload"
    if not clean or Path(clean).suffix.lower() not in SUPPORTED:
        kinds = ", ".join(SUPPORTED)
        return UploadResult(shown, "error", f"{shown}: unsupported type, upload one of {kinds}")
    uploads = settings.paths.uploads_dir
    path = uploads / clean
    doc_id = paper_id(path, "upload", settings)
    digest = hashlib.sha256(data).hexdigest()
    try:
        uploads.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return _existing(clean, path, doc_id, digest, indexed)
        _write_new(path, data)
        _remember(uploads, clean, digest)
    except FileExistsError:  # saved meanwhile by another upload
        return UploadResult(clean, "warning", f"{clean}: already uploaded; rename it to add it")
    except OSError as e:
        return UploadResult(clean, "error", f"{clean}: could not save to {uploads}: {e}")
    return SavedUpload(clean, path, doc_id)


def _existing(
    clean: str, path: Path, doc_id: str, digest: str, indexed: Mapping[str, DocRecord]
) -> SavedUpload | UploadResult:
    """The name is taken: the same bytes not yet indexed (a cut-short upload) are indexed now."""
    doc = indexed.get(doc_id)
    if doc is not None:
        return UploadResult(clean, "warning", f"{clean}: already uploaded; rename it to add it")
    if file_hash(path) == digest:
        return SavedUpload(clean, path, doc_id)
    return UploadResult(
        clean,
        "warning",
        f"{clean}: another file with this name is in the uploads folder; rename it to add it",
    )


def _write_new(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{_PARTIAL}{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)  # atomic and never overwrites: FileExistsError if taken
    finally:
        Path(tmp).unlink(missing_ok=True)


def _remember(uploads: Path, name: str, digest: str) -> None:
    line = json.dumps({"name": name, "sha256": digest}, ensure_ascii=False) + "\n"
    with open(uploads / LEDGER, "a", encoding="utf-8") as f:  # one short append: atomic
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def stored_uploads(settings: Settings) -> dict[str, set[str]]:
    """The ledger: each name the assistant stored, with the hashes of the bytes it stored."""
    out: dict[str, set[str]] = {}
    try:
        lines = (settings.paths.uploads_dir / LEDGER).read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            row = json.loads(line)
            out.setdefault(str(row["name"]), set()).add(str(row["sha256"]))
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line after a crash: the others still count
    return out


def pending_uploads(settings: Settings, indexed: Mapping[str, DocRecord]) -> list[Path]:
    """Stored uploads that no generation indexes (their ingest was cut short); also clears
    temporary files left by writers that are gone."""
    uploads = settings.paths.uploads_dir
    if not uploads.is_dir():
        return []
    _clear_partials(uploads)
    out = []
    for name in sorted(stored_uploads(settings)):
        path = uploads / name
        if path.is_file() and paper_id(path, "upload", settings) not in indexed:
            out.append(path)
    return out


def _clear_partials(uploads: Path) -> None:
    for tmp in uploads.glob(f".*{_PARTIAL}*"):
        pid = tmp.name.split(_PARTIAL, 1)[1].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def upload_result(
    saved: SavedUpload, report: IngestReport, docs: Mapping[str, DocRecord]
) -> UploadResult:
    """Say what indexing did with a saved upload; a file that is not indexed (unreadable, a
    duplicate) does not stay behind."""
    clean, path, doc_id = saved.name, saved.path, saved.doc_id
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
    doc = docs.get(doc_id)
    chunks = doc.chunk_count if doc else 0
    noun = "chunk" if chunks == 1 else "chunks"
    return UploadResult(clean, "success", f"Indexed {clean} ({chunks} {noun}): ask away", doc_id)


def discard_uploads(removed: Iterable[DocRecord], settings: Settings) -> None:
    """Delete the stored files of removed uploads (only those the ledger lists with the same
    bytes): the uploads folder mirrors the index without touching the user's own files."""
    uploads = settings.paths.uploads_dir.resolve()
    stored = stored_uploads(settings)
    for doc in removed:
        path = Path(doc.path)
        if (
            doc.source == "upload"
            and path.resolve().parent == uploads
            and doc.content_hash in stored.get(path.name, set())
        ):
            path.unlink(missing_ok=True)
