"""Ingest papers into the index incrementally, one writer at a time.

Stages, each in its own module: ``sources`` (which files, which ids) → ``records`` (load,
clean, MinHash) → ``relate`` (duplicates, versions) → ``chunks`` → ``encode`` (vectors) → the
new generation written by ``store``. Only new or changed files are cleaned, chunked and
embedded (the embedding cache also skips texts seen before, so an interrupted ingest resumes
without re-encoding its finished work); a file whose bytes already exist under another name
is reported as a duplicate. Every bad file gets one line in the report and the rest of the
batch still indexes.

Every run holds the index's writer lock and builds on the newest generation on disk, so
concurrent writers (two CLI ingests, the app and the CLI) never drop each other's papers. A
plain sync touches only the bundled corpus; papers given by path or upload leave only through
``remove``. Nothing here imports the ``Assistant`` facade: it calls in, never the reverse.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..chunking import Chunker, embed_text
from ..corpus.loading import load_document
from ..embeddings import Embedder
from ..embeddings.late import sentence_vector_method
from ..errors import DocumentError, IndexIncompatibleError, IndexMissingError, IndexWriteError
from ..retrieval import BM25Index
from ..settings import Settings
from ..store import (
    ChunkRecord,
    DocRecord,
    IndexSnapshot,
    empty_snapshot,
    load_snapshot,
    make_manifest,
    make_vector_store,
    save_snapshot,
)
from ..store.generations import live_generation, make_live, writer_lock
from ..store.records import FORMAT_VERSION, PaperSource
from ..store.recovery import recover
from ..types import Progress
from .chunks import ChunkStage
from .encode import EncodeStage
from .records import catalog, copy_record, make_record, pipeline_fingerprint
from .relate import resolve_aliases
from .report import IngestReport
from .sources import bundled_files, expand, file_state, paper_id, source_of
from .uploads import pending_uploads

Notify = Callable[[str], None]


class Ingestor:
    """Runs one ingest under the writer lock: read base, load, clean, relate, chunk, embed, save.

    >>> snapshot, report = Ingestor(settings, embedder).run([Path("notes/")])
    """

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        progress: Progress | None = None,
        notify: Notify | None = None,
    ):
        self.settings = settings
        self.embedder = embedder
        self.progress: Progress = progress or (lambda stage, done, total: None)
        self.notify = notify
        self.chunking = ChunkStage(
            Chunker(settings.chunking, embedder.count_wordpieces, embedder.max_seq_length)
        )
        self.catalog = catalog(settings.paths.corpus_dir)
        self.sentence_vectors = sentence_vector_method(
            embedder, settings.embedding.sentence_vectors
        )
        self.encoding = EncodeStage(
            settings, embedder, self.progress, late=self.sentence_vectors != "separate"
        )
        self._rereading: dict[Path, str] = {}  # files read again to recover a damaged index

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
            with writer_lock(index_dir, self.notify, self.settings.store.lock_timeout_s):
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
        old = self._base(base, full_verify=rebuild)
        records, revived, reread = self._records(old, report)
        compatible = old is not None and not rebuild and self._compatible(old)
        if rebuild and old is not None:
            self._keep_prior_work(old)
        start = old if compatible and old is not None else empty_snapshot(self.embedder.dimension)
        docs = {k: copy_record(v) for k, v in records.items()}
        self._remove(docs, remove, report)
        files: list[tuple[Path, PaperSource]] = []
        if paths is None or rebuild:
            files += self._sync_files(docs, report, force=not compatible)
        files += reread  # papers a damaged generation listed, read again from their files
        files += [(p, source_of(p, self.settings)) for p in expand(paths or [])]
        files = list(dict.fromkeys(files))
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
        thresholds = (
            self.settings.corpus.duplicate_threshold,
            self.settings.corpus.version_threshold,
        )
        resolve_aliases(docs, fresh, report, thresholds)
        same_store = (
            old is not None
            and old.manifest is not None
            and (old.manifest.backend == self.settings.store.backend)
            and old.manifest.format_version == FORMAT_VERSION  # an older format is rewritten
        )
        # an index made before sentence vectors existed gets them on its next ingest
        unchanged = (
            not (fresh or report.removed)
            and compatible
            and same_store
            and (old is None or set(records) == set(old.documents))
        )
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

    def _base(self, base: IndexSnapshot | None, full_verify: bool) -> IndexSnapshot | None:
        """The newest generation on disk (another process may have written one since ``base``);
        a rebuild checks every byte of it against its checksums first."""
        index_dir = self.settings.paths.index_dir
        if base is not None and base.path is not None and base.notice is None and not full_verify:
            if live_generation(index_dir) == base.path.name:
                return base
        try:
            snap = load_snapshot(index_dir, self.settings.store, full_verify=full_verify)
        except (IndexMissingError, IndexIncompatibleError):
            return None
        if snap.notice and self.notify is not None:
            self.notify(snap.notice)
        return snap

    def _records(
        self, old: IndexSnapshot | None, report: IngestReport
    ) -> tuple[dict[str, DocRecord], set[str], list[tuple[Path, PaperSource]]]:
        """The papers to start from, those to re-embed to keep them, and files to read again.

        When the live generation is damaged (an older one loaded, or none), every paper the
        newest readable manifest lists is kept: from an intact record, from its file, or from
        its row in a damaged table (``store.recovery``); one that has none of these is named
        in ``report.dropped`` with the reason, never dropped in silence.
        """
        if old is not None and old.notice is None:
            return old.documents, set(), []
        found = recover(self.settings.paths.index_dir)
        for line in found.damaged:
            if self.notify is not None:
                self.notify(f"damaged index generation {line}")
        report.dropped.update(found.lost)
        reread = [(Path(e.path), e.source) for e in found.reread.values()]
        self._rereading = {Path(e.path): k for k, e in found.reread.items()}  # ids as listed
        newest = found.records
        if old is None:
            return newest, set(newest), reread
        if found.generation is None and not newest:  # no manifest reads: the loaded one decides
            return old.documents, set(), reread
        revived = {
            k
            for k, d in newest.items()
            if k not in old.documents or old.documents[k].content_hash != d.content_hash
        }
        return newest, revived, reread

    def _compatible(self, snap: IndexSnapshot) -> bool:
        m = snap.manifest
        return (
            m is not None
            and m.embedding.model == self.embedder.name
            and m.embedding.dimension == self.embedder.dimension
            and m.fingerprint == self.settings.chunking.fingerprint()
            and m.chunking.get("sentence_vectors", "separate") == self.sentence_vectors
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
        self.chunking.keep(old.documents, list(old.chunks))

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
        pending = [(p, "upload") for p in pending_uploads(self.settings, docs)]
        return [(p, "corpus") for p in bundled] + others + pending  # type: ignore[return-value]

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
        doc_id = self._rereading.get(path) or paper_id(path, source, self.settings)
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
        elif self._rereading.get(path) == doc_id:
            report.recovered.append(doc_id)  # listed by a damaged generation, read again
        else:
            (report.updated if existing else report.added).append(doc_id)
        entry = self.catalog.get(doc_id) if source == "corpus" else None
        record = make_record(raw, doc_id, source, entry, self.chunking.prior(doc_id))
        if existing is not None:
            record.aliases = existing.aliases
        if record.cleaning.get("warning"):  # most of the file was removed: say so, keep it
            report.warnings[doc_id] = str(record.cleaning["warning"])
        docs[doc_id] = record
        fresh[doc_id] = []  # chunked after aliases are resolved

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
            new_chunks.extend(self.chunking.of(docs[doc_id]))
        new_vectors = self.encoding.chunks(new_chunks, docs, report)
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
        del new_vectors  # the store holds its own copy: free this one before the sentences
        per_doc: dict[str, list[int]] = {}  # one pass over the chunks, not one per document
        for c in chunks:
            tally = per_doc.setdefault(c.doc_id, [0, 0])
            tally[0] += 1
            tally[1] += c.tokens
        for d in docs.values():
            d.chunk_count, d.tokens = per_doc.get(d.doc_id, (0, 0))
        sentences = self.encoding.sentences(
            old.sentences, docs, chunks, {c.doc_id for c in kept}, report
        )
        self.progress("indexing", 0, 1)
        lexical = BM25Index([embed_text(c.section, c.text) for c in chunks])
        self.progress("indexing", 1, 1)
        manifest = make_manifest(
            embedder_name=self.embedder.name,
            dimension=self.embedder.dimension,
            max_seq_length=self.embedder.max_seq_length,
            chunking={
                **self.settings.chunking.model_dump(),
                "pipeline": pipeline_fingerprint(),
                "sentence_vectors": self.sentence_vectors,
            },
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
