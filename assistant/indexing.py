"""Ingest papers into the index incrementally, and tell whether an index is stale.

Only new or changed files are cleaned, chunked and embedded (the embedding cache also skips
texts seen before); a file whose bytes already exist under another name is reported as a
duplicate; a near-identical rendering of an indexed paper becomes its alias; a moderately
similar one is linked as a version. Every bad file gets one line in the report and the rest of
the batch still indexes. The new index is written as a new generation (see ``store``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .chunking import Chunker, embed_text
from .corpus.catalog import guess_title, load_catalog
from .corpus.cleaning import clean_text
from .corpus.dedup import from_hashvalues, relate, signature
from .corpus.loading import SUPPORTED, RawDocument, load_document
from .embeddings import Embedder
from .errors import AssistantError, DocumentError, IndexIncompatibleError, IndexMissingError
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

Progress = Callable[[str, int, int], None]  # (stage, done, total)


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
    seconds: float = 0.0
    index_path: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


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


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every paper under the corpus folder (uploads included), in a stable order."""
    if not corpus_dir.is_dir():
        return []
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith(".")
    )


def index_status(
    snapshot: IndexSnapshot | None, settings: Settings, embedder_name: str
) -> IndexStatus:
    """Compare an index with the corpus folder and the settings; say what changed."""
    if snapshot is None:
        return IndexStatus(exists=False)
    reasons: list[str] = []
    manifest = snapshot.manifest
    if manifest.get("embedding", {}).get("model") != embedder_name:
        reasons.append(f"built with embedding model {manifest.get('embedding', {}).get('model')}")
    if manifest.get("chunking", {}).get("fingerprint") != settings.chunking.fingerprint():
        reasons.append("chunking settings changed")
    if _backend(manifest) != settings.store.backend:
        reasons.append(f"vectors in {_backend(manifest)}, settings say {settings.store.backend}")
    indexed = manifest.get("files", {})
    on_disk = {p.name: p for p in corpus_files(settings.paths.corpus_dir)}
    new = sorted(set(on_disk) - set(indexed))
    gone = sorted(d for d in indexed if d not in on_disk and _from_corpus(snapshot, d, settings))
    changed = sorted(
        name
        for name, path in on_disk.items()
        if name in indexed and _file_hash(path) != indexed[name]
    )
    for label, names in (("new", new), ("removed", gone), ("changed", changed)):
        if names:
            reasons.append(f"{label} in corpus: {', '.join(names[:5])}")
    fix = (
        "assistant ingest --rebuild"
        if reasons[:1] and "model" in reasons[0]
        else "assistant ingest"
    )
    return IndexStatus(exists=True, stale=bool(reasons), reasons=reasons, fix=fix)


def _backend(manifest: dict[str, object]) -> str:
    store = manifest.get("store")
    return str(store.get("backend", "faiss")) if isinstance(store, dict) else "faiss"


def _from_corpus(snapshot: IndexSnapshot, doc_id: str, settings: Settings) -> bool:
    doc = snapshot.documents.get(doc_id)
    if doc is None:
        return False
    try:
        Path(doc.path).resolve().relative_to(settings.paths.corpus_dir.resolve())
    except ValueError:
        return False
    return True


def _file_hash(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


class Ingestor:
    """Runs one ingest: load, clean, relate, chunk, embed, save."""

    def __init__(self, settings: Settings, embedder: Embedder, progress: Progress | None = None):
        self.settings = settings
        self.embedder = embedder
        self.progress = progress or (lambda stage, done, total: None)
        self.chunker = Chunker(
            settings.chunking, embedder.count_wordpieces, embedder.max_seq_length
        )
        self.catalog = load_catalog(settings.paths.corpus_dir)

    def run(
        self,
        paths: Iterable[Path] | None = None,
        rebuild: bool = False,
        base: IndexSnapshot | None = None,
    ) -> tuple[IndexSnapshot, IngestReport]:
        started = time.perf_counter()
        report = IngestReport()
        sync = paths is None  # a full sync also drops documents whose files are gone
        files = corpus_files(self.settings.paths.corpus_dir) if paths is None else list(paths)
        old = self._base(base, rebuild)
        docs = {k: DocRecord(**asdict(v)) for k, v in old.documents.items()}
        if sync:
            present = {p.name for p in files}
            for doc_id in [d for d in docs if d not in present]:
                docs.pop(doc_id)
                report.removed.append(doc_id)
        fresh: dict[str, list[ChunkRecord]] = {}
        for orphan in [d for d in docs.values() if d.alias_of and d.alias_of not in docs]:
            orphan.alias_of = None  # its canonical copy is gone: index the alias itself
            fresh[orphan.doc_id] = []
        for n, path in enumerate(files):
            self.progress("reading", n, len(files))
            self._ingest_file(Path(path), docs, fresh, report)
        self.progress("reading", len(files), len(files))
        self._resolve_aliases(docs, fresh, report)
        same_store = _backend(old.manifest) == self.settings.store.backend
        if not (fresh or report.removed) and old.path is not None and same_store:
            # nothing changed: keep the live generation as it is
            report.documents = len(old.indexed_documents)
            report.chunks = len(old.chunks)
            report.tokens = sum(c.tokens for c in old.chunks)
            report.index_path = str(old.path)
            report.seconds = round(time.perf_counter() - started, 3)
            return old, report
        snapshot = self._assemble(old, docs, fresh, report)
        path = save_snapshot(
            snapshot, self.settings.paths.index_dir, self.settings.store.keep_generations
        )
        report.index_path = str(path)
        report.seconds = round(time.perf_counter() - started, 3)
        return snapshot, report

    def _base(self, base: IndexSnapshot | None, rebuild: bool) -> IndexSnapshot:
        if rebuild:
            return empty_snapshot(self.embedder.dimension)
        if base is not None:
            return base
        try:
            snap = load_snapshot(self.settings.paths.index_dir, self.settings.store)
        except IndexMissingError:
            return empty_snapshot(self.embedder.dimension)
        except IndexIncompatibleError:
            return empty_snapshot(self.embedder.dimension)
        same_model = snap.manifest.get("embedding", {}).get("model") == self.embedder.name
        same_chunks = snap.manifest.get("chunking", {}).get("fingerprint") == (
            self.settings.chunking.fingerprint()
        )
        return snap if same_model and same_chunks else empty_snapshot(self.embedder.dimension)

    def _ingest_file(
        self,
        path: Path,
        docs: dict[str, DocRecord],
        fresh: dict[str, list[ChunkRecord]],
        report: IngestReport,
    ) -> None:
        try:
            raw = load_document(path, self.settings.corpus.max_file_mb)
        except DocumentError as e:
            report.errors[str(path)] = e.reason
            return
        existing = docs.get(raw.doc_id)
        if existing is not None and existing.content_hash == raw.content_hash:
            report.unchanged.append(raw.doc_id)
            return
        twin = next(
            (
                d
                for d in docs.values()
                if d.content_hash == raw.content_hash and d.doc_id != raw.doc_id
            ),
            None,
        )
        if twin is not None:
            report.duplicates[str(path)] = twin.doc_id
            return
        (report.updated if existing else report.added).append(raw.doc_id)
        record = self._record(raw)
        docs[raw.doc_id] = record
        fresh[raw.doc_id] = []  # chunked after aliases are resolved

    def _record(self, raw: RawDocument) -> DocRecord:
        clean = clean_text(raw.text)
        entry = self.catalog.get(raw.doc_id)
        widths = [len(line) for line in raw.text.splitlines() if line.strip()]
        return DocRecord(
            doc_id=raw.doc_id,
            path=str(raw.path),
            title=entry.title if entry else guess_title(raw.doc_id, raw.text),
            authors=list(entry.authors) if entry else [],
            affiliation=entry.affiliation if entry else "",
            year=entry.year if entry else None,
            kind=raw.kind,
            content_hash=raw.content_hash,
            clean_text=clean.text,
            sections=[[s.title, s.start, s.end] for s in clean.sections],
            segments=[list(s) for s in clean.segments],
            references_raw_start=clean.references_raw_start,
            minhash=[int(v) for v in signature(clean.text).hashvalues],
            quality=float(statistics.median(widths)) if widths else 0.0,
            version=entry.version if entry else None,
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
            new_chunks.extend(self._chunk(docs[doc_id]))
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
        self.progress("indexing", 0, 1)
        lexical = BM25Index([embed_text(c.section, c.text) for c in chunks])
        self.progress("indexing", 1, 1)
        manifest = make_manifest(
            embedder_name=self.embedder.name,
            dimension=self.embedder.dimension,
            max_seq_length=self.embedder.max_seq_length,
            chunking=self.settings.chunking.model_dump(),
            chunk_fingerprint=self.settings.chunking.fingerprint(),
            documents=docs,
            chunk_count=len(chunks),
            index_kind=store.kind,
            store_info=store.describe(self.settings.paths.index_dir),
        )
        report.documents = sum(1 for d in docs.values() if d.alias_of is None)
        report.chunks = len(chunks)
        report.tokens = sum(c.tokens for c in chunks)
        return IndexSnapshot(manifest, docs, chunks, store, lexical=lexical)

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
        out: list[np.ndarray] = []
        batch = max(1, self.settings.embedding.batch_size * 4)
        if self.settings.embedding.engine == "ray":
            batch = max(1, len(texts))  # one Ray Data job spreads all texts over the workers
        for i in range(0, len(texts), batch):
            self.progress("embedding", i, len(texts))
            out.append(self.embedder.embed(texts[i : i + batch]))
        self.progress("embedding", len(texts), len(texts))
        report.embedded = _encoded(self.embedder) - before
        if not out:
            return np.zeros((0, self.embedder.dimension), np.float32)
        return np.vstack(out)


def _encoded(embedder: Embedder) -> int:
    inner = getattr(embedder, "inner", embedder)
    return int(getattr(inner, "calls", 0))


def ingest(
    paths: Iterable[Path] | None = None,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> IngestReport:
    """Build or update the index from ``paths`` (default: the whole corpus folder)."""
    from .embeddings import make_embedder

    settings = settings or Settings()
    if embedder is None:
        embedder = make_embedder(settings)
    try:
        _, report = Ingestor(settings, embedder, progress).run(paths, rebuild=rebuild)
    except OSError as e:
        raise AssistantError(f"could not write the index at {settings.paths.index_dir}: {e}") from e
    return report
