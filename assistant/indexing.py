"""Ingest papers into the index incrementally, one writer at a time.

Only new or changed files are cleaned, chunked and embedded (the embedding cache also skips
texts seen before); a file whose bytes already exist under another name is reported as a
duplicate; a near-identical rendering of an indexed paper becomes its alias; a moderately
similar one is linked as a version. Every bad file gets one line in the report and the rest of
the batch still indexes. The new index is written as a new generation (see ``store``).

Every run holds the index's writer lock and builds on the newest generation on disk, so
concurrent writers (two CLI ingests, the app and the CLI) never drop each other's papers. A
plain sync touches only the bundled corpus; papers given by path or upload leave only through
``remove`` (see ``papers``).
"""

from __future__ import annotations

import hashlib
import statistics
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__
from .chunking import Chunker, embed_text
from .corpus.catalog import CatalogEntry, guess_title, load_catalog
from .corpus.cleaning import clean_text
from .corpus.dedup import from_hashvalues, relate, signature
from .corpus.loading import RawDocument, load_document
from .embeddings import Embedder
from .errors import (
    ConfigError,
    DocumentError,
    IndexIncompatibleError,
    IndexMissingError,
    IndexWriteError,
)
from .papers import (
    IndexStatus,
    bundled_files,
    corpus_files,
    discard_uploads,
    expand,
    file_state,
    index_status,
    paper_id,
    resolve_paper,
    source_of,
)
from .retrieval import BM25Index
from .settings import Settings
from .store import (
    ChunkRecord,
    DocRecord,
    IndexSnapshot,
    empty_snapshot,
    load_snapshot,
    make_manifest,
    make_vector_store,
    save_snapshot,
)
from .store.generations import live_generation, load_records, make_live, writer_lock
from .store.records import FORMAT_VERSION, PaperSource
from .store.sentences import SentenceTable

__all__ = [
    "IndexStatus",
    "IngestReport",
    "Ingestor",
    "corpus_files",
    "index_status",
    "ingest",
    "remove_papers",
]

Progress = Callable[[str, int, int], None]  # (stage, done, total)

# What a paper's bytes alone determine (with the pipeline's code): kept across a rebuild.
_DERIVED = ("clean_text", "sections", "segments", "references_raw_start", "minhash", "quality")
# The modules that turn a file's bytes into those fields and into chunks.
_PIPELINE = (
    "corpus/loading.py",
    "corpus/cleaning.py",
    "corpus/vocabulary.py",
    "corpus/dedup.py",
    "sentences.py",
    "chunking.py",
    "indexing.py",
)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> canonical
    versions: dict[str, list[str]] = field(default_factory=dict)  # group -> doc ids
    duplicates: dict[str, str] = field(default_factory=dict)  # skipped file -> existing doc
    errors: dict[str, str] = field(default_factory=dict)  # file -> reason
    documents: int = 0
    chunks: int = 0
    tokens: int = 0
    embedded: int = 0  # chunk texts sent to the encoder (cache misses)
    sentences: int = 0  # sentence spans stored for the answerer (see store.sentences)
    embedded_sentences: int = 0  # sentence texts sent to the encoder (cache misses)
    seconds: float = 0.0
    index_path: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Ingestor:
    """Runs one ingest under the writer lock: read base, load, clean, relate, chunk, embed, save.

    >>> snapshot, report = Ingestor(settings, embedder).run([Path("notes/")])
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        progress: Progress | None = None,
        notify: Callable[[str], None] | None = None,
    ):
        self.settings = settings
        self.embedder = embedder
        self.progress = progress or (lambda stage, done, total: None)
        self.notify = notify
        self.chunker = Chunker(
            settings.chunking, embedder.count_wordpieces, embedder.max_seq_length
        )
        self.catalog = _catalog(settings.paths.corpus_dir)
        # a rebuild's unchanged papers: their records and chunks from the base generation
        self._prior_docs: dict[str, DocRecord] = {}
        self._prior_chunks: dict[str, list[ChunkRecord]] = {}

    def run(
        self,
        paths: Iterable[Path] | None = None,
        rebuild: bool = False,
        base: IndexSnapshot | None = None,
        remove: Iterable[str] = (),
    ) -> tuple[IndexSnapshot, IngestReport]:
        """Sync the bundled corpus (``paths`` None), or add ``paths`` (files or folders);
        drop the papers named in ``remove``. ``base`` is reused when it is still the live
        generation; otherwise the newest one on disk is read under the lock."""
        index_dir = self.settings.paths.index_dir
        try:
            with writer_lock(index_dir, self.notify):
                return self._run(paths, rebuild, base, list(remove))
        except PermissionError as e:
            raise IndexWriteError(
                f"cannot write the index at {index_dir} ({e.strerror}): check its permissions "
                "or point ASSISTANT_PATHS__INDEX_DIR at a folder you can write"
            ) from e

    def _run(
        self,
        paths: Iterable[Path] | None,
        rebuild: bool,
        base: IndexSnapshot | None,
        remove: list[str],
    ) -> tuple[IndexSnapshot, IngestReport]:
        started = time.perf_counter()
        report = IngestReport()
        old = self._base(base)
        records, revived = self._records(old)
        compatible = old is not None and not rebuild and self._compatible(old)
        if rebuild and old is not None:
            self._keep_prior_work(old)
        start = old if compatible and old is not None else empty_snapshot(self.embedder.dimension)
        docs = {k: _copy_record(v) for k, v in records.items()}
        self._remove(docs, remove, report)
        files: list[tuple[Path, PaperSource]] = []
        if paths is None or rebuild:
            files += self._sync_files(docs, report, force=not compatible)
        files += [(p, source_of(p, self.settings)) for p in expand(paths or [])]
        fresh: dict[str, list[ChunkRecord]] = {
            k: [] for k in revived if k in docs and docs[k].alias_of is None
        }
        if not compatible:  # new model, chunking or damaged vectors: re-embed every kept paper
            fresh = {d.doc_id: [] for d in docs.values() if d.alias_of is None}
        for orphan in [d for d in docs.values() if d.alias_of and d.alias_of not in docs]:
            orphan.alias_of = None  # its canonical copy is gone: index the alias itself
            fresh[orphan.doc_id] = []
        for n, (path, source) in enumerate(files):
            self.progress("reading", n, len(files))
            self._ingest_file(path, source, docs, fresh, report, force=not compatible)
        self.progress("reading", len(files), len(files))
        self._resolve_aliases(docs, fresh, report)
        same_store = (
            old is not None
            and old.manifest is not None
            and (old.manifest.backend == self.settings.store.backend)
            and old.manifest.format_version == FORMAT_VERSION  # an older format is rewritten
        )
        # an index made before sentence vectors existed gets them on its next ingest
        unchanged = not (fresh or report.removed) and compatible and same_store
        if unchanged and old is not None and (old.sentences is not None or not old.chunks):
            if old.notice:  # recovered from an older generation: make it the live one again
                make_live(old, self.settings.paths.index_dir)
            report.documents = len(old.indexed_documents)
            report.chunks = len(old.chunks)
            report.tokens = sum(c.tokens for c in old.chunks)
            report.sentences = old.sentences.size if old.sentences is not None else 0
            report.index_path = str(old.path)
            report.seconds = round(time.perf_counter() - started, 3)
            return old, report
        snapshot = self._assemble(start, docs, fresh, report)
        path = save_snapshot(
            snapshot, self.settings.paths.index_dir, self.settings.store.keep_generations
        )
        report.index_path = str(path)
        report.seconds = round(time.perf_counter() - started, 3)
        return snapshot, report

    def _base(self, base: IndexSnapshot | None) -> IndexSnapshot | None:
        """The newest generation on disk (another process may have written one since ``base``)."""
        index_dir = self.settings.paths.index_dir
        if base is not None and base.path is not None and base.notice is None:
            if live_generation(index_dir) == base.path.name:
                return base
        try:
            snap = load_snapshot(index_dir, self.settings.store)
        except (IndexMissingError, IndexIncompatibleError):
            return None
        if snap.notice and self.notify is not None:
            self.notify(snap.notice)
        return snap

    def _records(self, old: IndexSnapshot | None) -> tuple[dict[str, DocRecord], set[str]]:
        """The papers to start from, and those that must be re-embedded to keep them.

        When the live generation is damaged and an older one loaded, the damaged one's paper
        records (``documents.json``) usually still read: its papers are kept, not dropped.
        """
        if old is not None and old.notice is None:
            return old.documents, set()
        newest = load_records(self.settings.paths.index_dir)
        if old is None:
            return newest, set(newest)
        if not newest:
            return old.documents, set()
        revived = {
            k
            for k, d in newest.items()
            if k not in old.documents or old.documents[k].content_hash != d.content_hash
        }
        return newest, revived

    def _compatible(self, snap: IndexSnapshot) -> bool:
        m = snap.manifest
        return (
            m is not None
            and m.embedding.model == self.embedder.name
            and m.embedding.dimension == self.embedder.dimension
            and m.fingerprint == self.settings.chunking.fingerprint()
        )

    def _keep_prior_work(self, old: IndexSnapshot) -> None:
        """Let a rebuild reuse each unchanged paper's cleaned text, MinHash and chunks.

        Valid when the base generation was built by the same pipeline code, chunker settings
        and tokenizer: then they are a function of the paper's bytes (its content hash), and
        recomputing them was most of a warm rebuild's time (bench/README.md). Vectors still
        come through the embedder (the content-hash cache), so damaged vectors are replaced.
        """
        m = old.manifest
        if (
            m is None
            or old.notice is not None
            or not self._compatible(old)
            or m.embedding.max_seq_length != self.embedder.max_seq_length
            or m.chunking.get("pipeline") != pipeline_fingerprint()
        ):
            return
        self._prior_docs = dict(old.documents)
        for c in old.chunks:
            self._prior_chunks.setdefault(c.doc_id, []).append(c)

    def _sync_files(
        self, docs: dict[str, DocRecord], report: IngestReport, force: bool
    ) -> list[tuple[Path, PaperSource]]:
        """The bundled corpus (its removed papers dropped) and every other paper's file that
        still exists (refreshed when it changed; a missing one keeps its record)."""
        bundled = bundled_files(self.settings)
        present = {paper_id(p, "corpus", self.settings) for p in bundled}
        for doc_id in [k for k, d in docs.items() if d.source == "corpus" and k not in present]:
            docs.pop(doc_id)
            report.removed.append(doc_id)
        others = [
            (Path(d.path), d.source)
            for d in docs.values()
            if d.source != "corpus"
            and (force or file_state(d) == "changed")
            and Path(d.path).is_file()
        ]
        return [(p, "corpus") for p in bundled] + others

    def _remove(self, docs: dict[str, DocRecord], remove: list[str], report: IngestReport) -> None:
        for doc_id in remove:
            if docs.pop(doc_id, None) is not None:
                report.removed.append(doc_id)
        for d in docs.values():
            d.aliases = [a for a in d.aliases if a in docs]

    def _ingest_file(
        self,
        path: Path,
        source: PaperSource,
        docs: dict[str, DocRecord],
        fresh: dict[str, list[ChunkRecord]],
        report: IngestReport,
        force: bool = False,
    ) -> None:
        try:
            raw = load_document(path, self.settings.corpus.max_file_mb)
        except DocumentError as e:
            report.errors[str(path)] = e.reason
            return
        doc_id = paper_id(path, source, self.settings)
        existing = docs.get(doc_id)
        if existing is not None and existing.content_hash == raw.content_hash and not force:
            report.unchanged.append(doc_id)
            return
        twin = next(
            (d for d in docs.values() if d.content_hash == raw.content_hash and d.doc_id != doc_id),
            None,
        )
        if twin is not None:
            report.duplicates[str(path)] = twin.doc_id
            return
        if existing is not None and existing.content_hash == raw.content_hash:
            report.unchanged.append(doc_id)  # re-read for a rebuild, same file
        else:
            (report.updated if existing else report.added).append(doc_id)
        record = self._record(raw, doc_id, source)
        if existing is not None:
            record.aliases = existing.aliases
        docs[doc_id] = record
        fresh[doc_id] = []  # chunked after aliases are resolved

    def _record(self, raw: RawDocument, doc_id: str, source: PaperSource) -> DocRecord:
        entry = self.catalog.get(doc_id) if source == "corpus" else None
        prior = self._prior_docs.get(doc_id)
        if prior is not None and prior.content_hash == raw.content_hash:
            derived = {k: getattr(prior, k) for k in _DERIVED}
        else:
            derived = _derive(raw)
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

    def _resolve_aliases(
        self, docs: dict[str, DocRecord], fresh: dict[str, list[ChunkRecord]], report: IngestReport
    ) -> None:
        """Decide, for every new or changed doc, whether it duplicates or versions another."""
        sigs = {d.doc_id: from_hashvalues(d.minhash) for d in docs.values() if d.minhash}
        thresholds = (
            self.settings.corpus.duplicate_threshold,
            self.settings.corpus.version_threshold,
        )
        for doc_id in list(fresh):
            doc = docs[doc_id]
            doc.alias_of, doc.version_group = None, None
            others = {k: v for k, v in sigs.items() if docs[k].alias_of is None and k != doc_id}
            rel = relate(doc_id, sigs[doc_id], others, *thresholds)
            if rel is None:
                continue
            other = docs[rel.other]
            if rel.kind == "duplicate":
                canonical, alias = (doc, other) if doc.quality > other.quality else (other, doc)
                alias.alias_of = canonical.doc_id
                canonical.aliases = sorted(set(canonical.aliases + alias.aliases + [alias.doc_id]))
                alias.aliases = []
                fresh.pop(alias.doc_id, None)
                if canonical.doc_id not in fresh and canonical is doc:
                    fresh[canonical.doc_id] = []
            else:
                group = other.version_group or other.doc_id
                other.version_group = doc.version_group = group
        for d in docs.values():
            if d.alias_of:
                report.aliases[d.doc_id] = d.alias_of
            if d.version_group:
                report.versions.setdefault(d.version_group, []).append(d.doc_id)

    def _assemble(
        self,
        old: IndexSnapshot,
        docs: dict[str, DocRecord],
        fresh: dict[str, list[ChunkRecord]],
        report: IngestReport,
    ) -> IndexSnapshot:
        keep_positions = [
            i
            for i, c in enumerate(old.chunks)
            if c.doc_id in docs and c.doc_id not in fresh and docs[c.doc_id].alias_of is None
        ]
        kept = [old.chunks[i] for i in keep_positions]
        new_chunks: list[ChunkRecord] = []
        for doc_id in fresh:
            new_chunks.extend(self._chunks_of(docs[doc_id]))
        new_vectors = self._embed(new_chunks, report)
        chunks = kept + new_chunks
        store = make_vector_store(
            self.settings,
            old,
            keep_positions,
            chunks,
            new_vectors,
            self.embedder.name,
            {d.doc_id: d.version_group for d in docs.values()},
        )
        per_doc: dict[str, list[int]] = {}  # one pass over the chunks, not one per document
        for c in chunks:
            tally = per_doc.setdefault(c.doc_id, [0, 0])
            tally[0] += 1
            tally[1] += c.tokens
        for d in docs.values():
            d.chunk_count, d.tokens = per_doc.get(d.doc_id, (0, 0))
        before = _encoded(self.embedder)
        sentences = self._sentences(old, docs, chunks, {c.doc_id for c in kept})
        report.embedded_sentences = _encoded(self.embedder) - before
        self.progress("indexing", 0, 1)
        lexical = BM25Index([embed_text(c.section, c.text) for c in chunks])
        self.progress("indexing", 1, 1)
        manifest = make_manifest(
            embedder_name=self.embedder.name,
            dimension=self.embedder.dimension,
            max_seq_length=self.embedder.max_seq_length,
            chunking={**self.settings.chunking.model_dump(), "pipeline": pipeline_fingerprint()},
            chunk_fingerprint=self.settings.chunking.fingerprint(),
            documents=docs,
            chunk_count=len(chunks),
            index_kind=store.kind,
            store_info=store.describe(self.settings.paths.index_dir),
        ).model_copy(update={"sentence_count": sentences.size})
        report.documents = sum(1 for d in docs.values() if d.alias_of is None)
        report.chunks = len(chunks)
        report.tokens = sum(c.tokens for c in chunks)
        report.sentences = sentences.size
        return IndexSnapshot(manifest, docs, chunks, store, lexical=lexical, sentences=sentences)

    def _chunks_of(self, doc: DocRecord) -> list[ChunkRecord]:
        """The paper's chunks: the base generation's when its text is the same, else new."""
        prior = self._prior_docs.get(doc.doc_id)
        if prior is not None and prior.content_hash == doc.content_hash:
            kept = self._prior_chunks.get(doc.doc_id)
            if kept:
                return kept
        return self._chunk(doc)

    def _chunk(self, doc: DocRecord) -> list[ChunkRecord]:
        from .corpus.cleaning import CleanDocument, Section

        clean = CleanDocument(
            text=doc.clean_text,
            sections=[Section(t, s, e) for t, s, e in doc.sections],
            segments=[(c, r, n) for c, r, n in doc.segments],
        )
        return [
            ChunkRecord(**{k: getattr(c, k) for k in ChunkRecord.__dataclass_fields__})
            for c in self.chunker.chunk(doc.doc_id, clean)
        ]

    def _embed(self, chunks: list[ChunkRecord], report: IngestReport) -> np.ndarray:
        texts = [embed_text(c.section, c.text) for c in chunks]
        before = _encoded(self.embedder)
        vectors = self._encode(texts, "embedding")
        report.embedded = _encoded(self.embedder) - before
        return vectors

    def _sentences(
        self,
        old: IndexSnapshot,
        docs: dict[str, DocRecord],
        chunks: list[ChunkRecord],
        kept: set[str],
    ) -> SentenceTable:
        """Vectors of every sentence the answerer scores: kept papers keep their rows, the
        others' sentences go through the (cached) embedder, shortest first (less padding)."""

        def embed(texts: Sequence[str]) -> np.ndarray:
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            out = np.empty((len(texts), self.embedder.dimension), np.float32)
            out[order] = self._encode([texts[i] for i in order], "sentences")
            return out

        return SentenceTable.build(
            docs, chunks, embed, self.embedder.dimension, old.sentences, kept
        )

    def _encode(self, texts: list[str], stage: str) -> np.ndarray:
        out: list[np.ndarray] = []
        batch = max(1, self.settings.embedding.batch_size * 4)
        if self.settings.embedding.engine == "ray":
            batch = max(1, len(texts))  # one Ray Data job spreads all texts over the workers
        for i in range(0, len(texts), batch):
            self.progress(stage, i, len(texts))
            out.append(self.embedder.embed(texts[i : i + batch]))
        self.progress(stage, len(texts), len(texts))
        if not out:
            return np.zeros((0, self.embedder.dimension), np.float32)
        return np.vstack(out)


def _catalog(corpus_dir: Path) -> dict[str, CatalogEntry]:
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


def _copy_record(doc: DocRecord) -> DocRecord:
    """A copy to change (aliases, versions, counts) without touching the base snapshot's.

    Shallow: the text, sections and MinHash are only ever replaced, never changed in place,
    and a deep ``asdict`` copy of every paper's text was a tenth of a warm rebuild.
    """
    values = {f.name: getattr(doc, f.name) for f in fields(DocRecord)}
    return DocRecord(**{**values, "aliases": list(doc.aliases)})


def _derive(raw: RawDocument) -> dict[str, Any]:
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
    }


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """The package version and the source of the modules that derive records and chunks, so
    that a rebuild after a code change recomputes them (see ``Ingestor._keep_prior_work``)."""
    root = Path(__file__).parent
    digest = hashlib.sha256(__version__.encode())
    for name in _PIPELINE:
        try:
            digest.update((root / name).read_bytes())
        except OSError:  # no source shipped (a frozen build): the version alone decides
            digest.update(name.encode())
    return digest.hexdigest()[:16]


def _encoded(embedder: Embedder) -> int:
    inner = getattr(embedder, "inner", embedder)
    return int(getattr(inner, "calls", 0))


def ingest(
    paths: Iterable[Path] | None = None,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
    remove: Iterable[str] = (),
    notify: Callable[[str], None] | None = None,
) -> IngestReport:
    """Build or update the index: sync the bundled corpus (no ``paths``), or add ``paths``
    (files or folders, searched recursively); drop the papers with the ids in ``remove``."""
    from .embeddings import make_embedder

    settings = settings or Settings()
    if embedder is None:
        embedder = make_embedder(settings)
    try:
        _, report = Ingestor(settings, embedder, progress, notify).run(
            paths, rebuild=rebuild, remove=remove
        )
    except OSError as e:
        raise IndexWriteError(
            f"could not write the index at {settings.paths.index_dir}: {e}"
        ) from e
    return report


def remove_papers(
    targets: Iterable[str | Path],
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    notify: Callable[[str], None] | None = None,
) -> IngestReport:
    """Drop the papers named by id or by the path they were ingested from (nothing else)."""
    settings = settings or Settings()
    latest = load_snapshot(settings.paths.index_dir, settings.store)
    ids = [resolve_paper(t, latest.documents.values()) for t in targets]
    report = ingest([], settings=settings, embedder=embedder, remove=ids, notify=notify)
    discard_uploads([latest.documents[i] for i in report.removed], settings)
    return report
