"""Bibliographic facts per paper from ``corpus/catalog.toml``, with a fallback for new files."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class CatalogEntry:
    title: str
    authors: list[str] = field(default_factory=list)
    affiliation: str = ""
    year: int | None = None
    work: str | None = None
    relation: str | None = None  # "rendering" | "version"
    version: str | None = None
    note: str = ""


def load_catalog(corpus_dir: Path) -> dict[str, CatalogEntry]:
    path = Path(corpus_dir) / "catalog.toml"
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    fields = set(CatalogEntry.__dataclass_fields__)
    return {
        doc_id: CatalogEntry(**{k: v for k, v in entry.items() if k in fields})
        for doc_id, entry in data.items()
    }


def guess_title(doc_id: str, text: str) -> str:
    """A title for a paper the catalog doesn't know: its first short line, else the file name."""
    for line in text.splitlines()[:15]:
        line = line.strip().lstrip("#").strip()
        if 10 <= len(line) <= 200 and not re.match(r"(?i)abstract|keywords", line):
            return line
    return Path(doc_id).stem
