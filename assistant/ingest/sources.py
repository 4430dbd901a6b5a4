"""Where papers come from: the bundled corpus, paths given to ``ingest``, uploads.

Bundled papers keep their corpus file name as id (gold sets cite them); any other paper's id
adds a short hash of its full path, so ``a/notes.txt`` and ``b/notes.txt`` are two papers.
Light (stdlib only): the read side (``papers.index_status``) uses it too.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from ..corpus.loading import SUPPORTED
from ..settings import Settings
from ..store.records import DocRecord, PaperSource


def corpus_files(corpus_dir: Path, exclude: Path | None = None) -> list[Path]:
    """Every paper under the corpus folder (not under ``exclude``), in a stable order.

    Symlinked folders are not followed (``os.walk`` default), so a symlink loop cannot hang or
    abort a batch; a symlinked file is read like any file.
    """
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        return []
    skip = exclude.resolve() if exclude is not None else None
    found: list[Path] = []
    for root, dirs, names in os.walk(corpus_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            p = Path(root) / name
            if name.startswith(".") or p.suffix.lower() not in SUPPORTED:
                continue
            try:
                if not p.is_file():
                    continue
                if skip is not None and p.resolve().is_relative_to(skip):
                    continue
            except (OSError, RuntimeError):  # a dangling or looping symlink: not a paper
                continue
            found.append(p)
    return sorted(found)


def bundled_files(settings: Settings) -> list[Path]:
    """The bundled corpus: the corpus folder without the uploads kept inside it."""
    return corpus_files(settings.paths.corpus_dir, exclude=settings.paths.uploads_dir)


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders replaced by the supported papers anywhere inside them."""
    out: list[Path] = []
    for p in paths:
        out.extend(corpus_files(p) if Path(p).is_dir() else [Path(p)])
    return list(dict.fromkeys(out))


def resolved(path: Path) -> Path:
    """The absolute path with links followed; a symlink loop stays as far as it resolves
    (``Path.resolve`` raises on one, which aborted a whole batch)."""
    return Path(os.path.realpath(path))


def source_of(path: Path, settings: Settings) -> PaperSource:
    resolved_path = resolved(path)
    if resolved_path.is_relative_to(resolved(settings.paths.uploads_dir)):
        return "upload"
    if resolved_path.is_relative_to(resolved(settings.paths.corpus_dir)):
        return "corpus"
    return "path"


def paper_id(path: Path, source: PaperSource, settings: Settings) -> str:
    """The stable id: the corpus-relative name for bundled papers, name + path hash otherwise."""
    full = resolved(path)
    if source == "corpus":
        return full.relative_to(resolved(settings.paths.corpus_dir)).as_posix()
    digest = hashlib.sha256(str(full).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{full.stem}-{digest}{full.suffix}"


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:  # in blocks: a 50 MB paper is not read whole to hash it
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_state(doc: DocRecord) -> str:
    """``ok``, ``changed`` (the file differs from what is indexed) or ``file missing``."""
    try:
        return "ok" if file_hash(Path(doc.path)) == doc.content_hash else "changed"
    except OSError:
        return "file missing"
