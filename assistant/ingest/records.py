"""A paper's record from its file: cleaned text, sections, MinHash, what cleaning removed.

What a paper's bytes alone determine (with the pipeline's code) is kept across a rebuild:
``pipeline_fingerprint`` names that code, so a code change recomputes it.
"""

from __future__ import annotations

import hashlib
import statistics
import tomllib
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from .._version import __version__
from ..corpus.catalog import CatalogEntry, guess_title, load_catalog
from ..corpus.cleaning import clean_text, cleaning_warning
from ..corpus.dedup import signature
from ..corpus.loading import RawDocument
from ..errors import ConfigError
from ..store.records import DocRecord, PaperSource

# What a paper's bytes alone determine (with the pipeline's code): kept across a rebuild.
DERIVED = (
    "clean_text",
    "sections",
    "segments",
    "references_raw_start",
    "minhash",
    "quality",
    "cleaning",
)
# The modules that turn a file's bytes into those fields and into chunks.
_PIPELINE = (
    "corpus/loading.py",
    "corpus/cleaning.py",
    "corpus/reference_list.py",
    "corpus/vocabulary.py",
    "corpus/dedup.py",
    "sentences.py",
    "chunking.py",
    "ingest/records.py",
    "ingest/pipeline.py",
)


def make_record(
    raw: RawDocument,
    doc_id: str,
    source: PaperSource,
    entry: CatalogEntry | None,
    prior: DocRecord | None = None,
) -> DocRecord:
    """The record of one loaded paper; ``prior`` (same bytes, same pipeline) spares the
    cleaning and MinHash."""
    if prior is not None and prior.content_hash == raw.content_hash:
        derived = {k: getattr(prior, k) for k in DERIVED}
    else:
        derived = derive(raw)
    return DocRecord(
        doc_id=doc_id,
        path=str(Path(raw.path).resolve()),
        title=entry.title if entry else guess_title(raw.doc_id, raw.text),
        authors=list(entry.authors) if entry else [],
        affiliation=entry.affiliation if entry else "",
        year=entry.year if entry else None,
        kind=raw.kind,
        source=source,
        content_hash=raw.content_hash,
        version=entry.version if entry else None,
        page_starts=list(raw.page_starts),
        **derived,
    )


def derive(raw: RawDocument) -> dict[str, Any]:
    """The fields of a paper record that its bytes determine: clean text, MinHash, quality."""
    clean = clean_text(raw.text)
    widths = [len(line) for line in raw.text.splitlines() if line.strip()]
    return {
        "clean_text": clean.text,
        "sections": [[s.title, s.start, s.end] for s in clean.sections],
        "segments": [list(s) for s in clean.segments],
        "references_raw_start": clean.references_raw_start,
        "minhash": [int(v) for v in signature(clean.text).hashvalues],
        "quality": float(statistics.median(widths)) if widths else 0.0,
        "cleaning": {
            "raw_words": clean.raw_words,
            "kept_words": clean.kept_words,
            "kept_share": round(clean.kept_share, 4),
            "removed": dict(clean.removed),
            "warning": cleaning_warning(clean),
        },
    }


def copy_record(doc: DocRecord) -> DocRecord:
    """A copy to change (aliases, versions, counts) without touching the base snapshot's.

    Shallow: the text, sections and MinHash are only ever replaced, never changed in place,
    and a deep ``asdict`` copy of every paper's text was a tenth of a warm rebuild.
    """
    values = {f.name: getattr(doc, f.name) for f in fields(DocRecord)}
    return DocRecord(**{**values, "aliases": list(doc.aliases)})


def catalog(corpus_dir: Path) -> dict[str, CatalogEntry]:
    """The corpus catalog; a broken ``catalog.toml`` is one line naming the file and the fix."""
    try:
        return load_catalog(corpus_dir)
    except (tomllib.TOMLDecodeError, TypeError, ValueError, AttributeError) as e:
        raise ConfigError(
            f"{Path(corpus_dir) / 'catalog.toml'} is invalid ({type(e).__name__}: {e}): "
            "fix the entry or remove the file"
        ) from e
    except OSError as e:
        raise ConfigError(f"cannot read {Path(corpus_dir) / 'catalog.toml'}: {e}") from e


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """The package version and the source of the modules that derive records and chunks, so
    that a rebuild after a code change recomputes them (see ``Ingestor._keep_prior_work``)."""
    root = Path(__file__).parent.parent
    digest = hashlib.sha256(__version__.encode())
    for name in _PIPELINE:
        try:
            digest.update((root / name).read_bytes())
        except OSError:  # no source shipped (a frozen build): the version alone decides
            digest.update(name.encode())
    return digest.hexdigest()[:16]
