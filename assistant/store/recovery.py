"""What a writer rebuilds from when generations are damaged: every paper the newest one listed.

Loading a damaged generation falls back to an older one, which lacks the papers added since;
rebuilding from the older one's records dropped them ("0 removed" all the same). The newest
generation's manifest names each of its papers (content hash, source, path) and is read on its
own, so it usually survives what broke the tables beside it. ``recover`` reads the newest
manifest that parses and sorts its papers:

- ``kept``: an intact record (paper tables that pass their checksums, or rows that read in a
  generation written before checksums) at the same content hash, newest generation first;
- ``reread``: no intact record, but its file is still there: ingest it again;
- ``salvaged``: no intact record and no file, but its row of a damaged table still parses;
- ``lost``: none of these, with the reason, for the ingest report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..errors import IndexIncompatibleError
from .checksums import check_files
from .chunk_table import PAPER_TEXTS, PAPERS, read_papers, salvage_papers
from .current import ordered_generations
from .records import DocRecord, Manifest, PaperEntry

MANIFEST = "manifest.json"
PAPER_TABLES = (PAPERS, PAPER_TEXTS, "papers.offsets.npy")
_FORMAT2_PAPERS = "documents.json"


@dataclass
class Recovery:
    """The papers to rebuild from, sorted by where each one's record comes from.

    >>> r = recover(index_dir)
    >>> docs = r.records                          # keep these (re-embed: their vectors are old)
    >>> files = [Path(e.path) for e in r.reread.values()]   # ingest these again
    >>> dropped = r.lost                          # doc id -> why, for the report
    """

    generation: Path | None = None  # the newest generation whose manifest reads
    papers: dict[str, PaperEntry] = field(default_factory=dict)  # what it lists
    kept: dict[str, DocRecord] = field(default_factory=dict)
    reread: dict[str, PaperEntry] = field(default_factory=dict)
    salvaged: dict[str, DocRecord] = field(default_factory=dict)
    lost: dict[str, str] = field(default_factory=dict)
    damaged: list[str] = field(default_factory=list)  # one line per damaged generation

    @property
    def records(self) -> dict[str, DocRecord]:
        """Kept and salvaged records, in the manifest's order."""
        both = {**self.kept, **self.salvaged}
        return {k: both[k] for k in self.papers if k in both}


def recovery_sources(index_dir: Path) -> dict[str, PaperEntry]:
    """The papers of the newest generation whose manifest reads, even when its tables do not."""
    return recover(index_dir).papers


def recover(index_dir: Path) -> Recovery:
    """Every paper the newest readable manifest lists, each with where to get it back from."""
    gens = ordered_generations(index_dir)
    out = Recovery()
    for gen in gens:
        manifest = _manifest(gen)
        if isinstance(manifest, Manifest):
            out.generation, out.papers = gen, dict(manifest.papers)
            break
        out.damaged.append(f"{gen.name}: {manifest}")
    start = gens.index(out.generation) if out.generation is not None else 0
    candidates: dict[str, DocRecord] = {}
    for gen in gens[start:]:
        if out.papers and len(out.kept) == len(out.papers):
            break
        intact, salvage, why = _records(gen)
        if why is not None:
            out.damaged.append(f"{gen.name}: {why}")
        if not out.papers and intact:  # no manifest reads anywhere: the newest tables decide
            out.papers = {k: _entry(d) for k, d in intact.items()}
        for doc_id, doc in intact.items():
            if _same(out.papers, doc_id, doc) and doc_id not in out.kept:
                out.kept[doc_id] = doc
        for doc_id, doc in salvage.items():
            if _same(out.papers, doc_id, doc):
                candidates.setdefault(doc_id, doc)
    for doc_id, entry in out.papers.items():
        if doc_id in out.kept:
            continue
        if Path(entry.path).is_file():
            out.reread[doc_id] = entry
        elif doc_id in candidates:
            out.salvaged[doc_id] = candidates[doc_id]
        else:
            out.lost[doc_id] = (
                f"its file {entry.path} is gone and no intact index generation holds its text"
            )
    return out


def _manifest(gen: Path) -> Manifest | str:
    """The generation's manifest, or why it does not read."""
    try:
        return Manifest.model_validate(json.loads((gen / MANIFEST).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return f"{MANIFEST} is missing"
    except (OSError, ValueError, ValidationError) as e:
        return f"{MANIFEST} is unreadable ({type(e).__name__})"


def _records(gen: Path) -> tuple[dict[str, DocRecord], dict[str, DocRecord], str | None]:
    """(intact records, rows salvaged from damaged tables, why the tables are not intact)."""
    if (gen / _FORMAT2_PAPERS).is_file():
        try:
            raw = json.loads((gen / _FORMAT2_PAPERS).read_text(encoding="utf-8"))
            return {k: DocRecord(**v) for k, v in raw.items()}, {}, None
        except (OSError, ValueError, TypeError, AttributeError) as e:
            return {}, {}, f"{_FORMAT2_PAPERS} is unreadable ({type(e).__name__})"
    problems = check_files(gen, PAPER_TABLES)  # None: written before checksums
    if problems:
        name, problem = next(iter(problems.items()))
        return {}, salvage_papers(gen), f"{name} {problem}"
    try:
        stored = read_papers(gen, counted=problems is None)  # verified: no need of tables.json
    except IndexIncompatibleError as e:
        return {}, salvage_papers(gen), str(e).split(": run `")[0]
    intact: dict[str, DocRecord] = {}
    for doc_id, doc in stored.items():
        try:
            intact[doc_id] = DocRecord(**asdict(doc))  # reads its text: a garbled row fails here
        except IndexIncompatibleError:
            continue
    lost = len(stored) - len(intact)
    return intact, {}, f"{lost} paper rows unreadable" if lost else None


def _same(papers: dict[str, PaperEntry], doc_id: str, doc: DocRecord) -> bool:
    entry = papers.get(doc_id)
    return entry is not None and entry.content_hash == doc.content_hash


def _entry(doc: DocRecord) -> PaperEntry:
    return PaperEntry(content_hash=doc.content_hash, source=doc.source, path=doc.path)
