"""Evaluate over another corpus: a JSON-lines collection becomes papers in an index of its own.

Each line (BEIR form: ``{"_id", "title", "text"}``) is written as ``<_id>.md``, the title as a
Markdown heading, a blank line, then the text (so the cleaner keeps the title a line of its own
and makes it every chunk's section, as BEIR pairs title and text), into
``<cache_dir>/eval-corpora/<name>-<hash>/papers/``; the normal pipeline (loader, cleaner,
chunker, embedding cache) indexes that folder into ``index/`` beside it. Files rather than a
new loader keep one ingest path: the abstracts are treated exactly as papers a user drops into
a folder, and doc ids are file names, as for the bundled papers. The folder is keyed by the
corpus file's hash, so a re-run reuses the index, and the bundled ``corpus/`` (its catalog and
lexicon) is never read: the papers folder holds an empty ``lexicon.toml``, and the lexicon
setting, where the Settings have one, points at it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from ..errors import AssistantError
from ..settings import Settings

Progress = Callable[[str, int, int], None]
FOLDER = "eval-corpora"
LEXICON = "lexicon.toml"
EMPTY_LEXICON = "# This corpus brings no domain words: no synonyms, generic words or list nouns.\n"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def doc_name(doc_id: str) -> str:
    """The file (and so the doc id) an abstract gets: ``4983`` -> ``4983.md``."""
    return f"{doc_id}.md"


def document_text(title: str, text: str) -> str:
    """What an abstract's file holds: title heading, blank line, text (quotes from either)."""
    return f"# {title.strip()}\n\n{text.strip()}\n"


def read_jsonl_corpus(path: Path) -> dict[str, str]:
    """``{file name: document text}`` for a JSON-lines corpus; a bad line names its number."""
    if not path.is_file():
        raise AssistantError(f"no corpus file at {path}: pass --corpus PATH to a JSON-lines file")
    docs: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                doc_id, title, text = str(row["_id"]), row.get("title", ""), row["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise AssistantError(
                    f'{path}:{n}: expected {{"_id", "title", "text"}} per line ({e})'
                ) from e
            if not _SAFE_ID.match(doc_id):
                raise AssistantError(f"{path}:{n}: _id {doc_id!r} cannot be a file name")
            docs[doc_name(doc_id)] = document_text(title, text)
    if not docs:
        raise AssistantError(f"{path} holds no documents")
    return docs


def corpus_settings(path: Path, base: Settings) -> Settings:
    """``base`` pointed at the corpus's own papers and index folders under the cache dir."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    root = base.paths.cache_dir / FOLDER / f"{path.stem}-{digest}"
    return base.with_updates(
        paths={
            "corpus_dir": root / "papers",
            "index_dir": root / "index",
            "uploads_dir": root / "uploads",
        },
        corpus={"lexicon_path": root / "papers" / LEXICON},  # empty: no domain knowledge
    )


def prepare_corpus(path: Path, base: Settings, progress: Progress | None = None) -> Settings:
    """Write the corpus's papers (once) and return the Settings whose index covers them.

    The index itself is built, or reused, by ``Assistant.load`` on these Settings.
    """
    settings = corpus_settings(path, base)
    papers = settings.paths.corpus_dir
    docs = read_jsonl_corpus(path)
    papers.mkdir(parents=True, exist_ok=True)
    if not (papers / LEXICON).is_file():
        _write_atomic(papers / LEXICON, EMPTY_LEXICON)
    present = {p.name for p in papers.glob("*.md")}
    for n, (name, text) in enumerate(docs.items()):
        if progress and n % 500 == 0:
            progress("writing papers", n, len(docs))
        if name not in present:
            _write_atomic(papers / name, text)
    if progress:
        progress("writing papers", len(docs), len(docs))
    return settings


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
