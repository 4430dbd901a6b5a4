"""The public facade: ``Assistant.load().ask("...")``.

Holds one immutable index snapshot (with its retriever) at a time; adding papers builds a new
snapshot and swaps it in under a lock, so concurrent ``ask`` calls always see a whole index.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .answering.base import AnswerContext, Answerer, abstention
from .answering.factory import make_answerer
from .corpus.lexicon import load_lexicon
from .embeddings import Embedder, make_embedder
from .errors import (
    IndexIncompatibleError,
    IndexMissingError,
)
from .ingest.uploads import UploadResult, save_upload, upload_result
from .papers import IndexInfo, IndexStatus, index_info, index_status
from .question_input import check_knobs, chosen_papers, clean_question
from .retrieval import Retriever
from .retrieval.followup import History, normalise_history
from .retrieval.plan import QuestionPlan, make_plan
from .retrieval.query import mostly_cjk
from .retrieval.routing import interleave, with_front_matter
from .settings import RetrievalMode, Settings
from .store import DocRecord, IndexSnapshot, load_snapshot
from .store.generations import generations, live_generation
from .types import Answer, Passage, Progress

if TYPE_CHECKING:  # the ingest stack (datasketch, scipy: 1.7 s) is not needed for asking
    from .ingest import IngestReport


@dataclass(frozen=True)
class _State:
    snapshot: IndexSnapshot
    retriever: Retriever
    context: AnswerContext
    # answer contexts that see only some papers (a user's choice), made on first use
    within: dict[frozenset[str], AnswerContext] = dataclasses.field(default_factory=dict)

    def context_for(self, papers: frozenset[str] | None) -> AnswerContext:
        """The answer context over ``papers`` only (None: every paper), so an answerer that
        looks past the passages (an overview of "these papers") sees just the chosen ones."""
        if papers is None:
            return self.context
        found = self.within.get(papers)
        if found is None:
            docs = self.snapshot.documents
            kept = {d: r for d, r in docs.items() if (r.alias_of or d) in papers}
            view = dataclasses.replace(self.snapshot, documents=kept)
            found = AnswerContext(view, self.context.has_word, self.context.front)
            if len(self.within) >= 16:
                self.within.clear()
            self.within[papers] = found
        return found


class Assistant:
    """Cited question answering over the indexed papers.

    >>> from assistant import Assistant
    >>> bot = Assistant.load()                      # builds the index on first use
    >>> answer = bot.ask("What challenges do the papers identify?")
    >>> answer.text, [c.quote for c in answer.citations]
    """

    def __init__(self, settings: Settings, snapshot: IndexSnapshot, embedder: Embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self._lock = threading.Lock()
        self._ingest_lock = threading.Lock()
        self.lexicon = load_lexicon(settings.corpus.lexicon_file(settings.paths.corpus_dir))
        self._state = self._make_state(snapshot)
        self.answerer: Answerer
        self.answerer, self.answerer_notice = make_answerer(settings, embedder, self.lexicon)

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        build: bool = True,
        progress: Progress | None = None,
    ) -> Assistant:
        """Open the index (building it from the corpus folder when missing)."""
        settings = settings or Settings()
        if embedder is None:
            embedder = make_embedder(settings, engine="local")
        try:
            snapshot = load_snapshot(settings.paths.index_dir, settings.store)
            _check_model(snapshot, embedder, settings)
        except IndexMissingError:
            if not build:
                raise
            from .ingest import run_ingest

            snapshot, _ = run_ingest(settings, embedder, progress=progress)
        return cls(settings, snapshot, embedder)

    @staticmethod
    def has_index(settings: Settings | None = None) -> bool:
        """Has an index been built where the settings point (even one needing recovery)?"""
        index_dir = (settings or Settings()).paths.index_dir
        return live_generation(index_dir) is not None or bool(generations(index_dir))

    def with_settings(self, settings: Settings) -> Assistant:
        """Another Assistant on the same index and model with other settings (e.g. UI knobs)."""
        clone = Assistant.__new__(Assistant)
        clone.settings = settings
        clone.embedder = self.embedder
        clone._lock = threading.Lock()
        clone._ingest_lock = self._ingest_lock
        clone.lexicon = load_lexicon(settings.corpus.lexicon_file(settings.paths.corpus_dir))
        clone._state = clone._make_state(self._state.snapshot)
        clone.answerer, clone.answerer_notice = make_answerer(
            settings, self.embedder, clone.lexicon
        )
        return clone

    # -- index -------------------------------------------------------------------------

    def _make_state(self, snapshot: IndexSnapshot) -> _State:
        retriever = Retriever(snapshot, self.embedder, self.settings.retrieval, self.lexicon)
        return _State(
            snapshot, retriever, AnswerContext(snapshot, retriever.bm25.has_word, retriever.front)
        )

    @property
    def snapshot(self) -> IndexSnapshot:
        return self._state.snapshot

    def status(self) -> IndexStatus:
        """Is the index in step with its papers' files and the settings?"""
        return index_status(self._state.snapshot, self.settings, self.embedder.name)

    def info(self) -> IndexInfo:
        """The index and every paper in it, with its source and whether its file changed."""
        return index_info(self._state.snapshot, self.settings, self.embedder.name)

    @property
    def notice(self) -> str | None:
        """Set when the live generation was unreadable and an older complete one was loaded."""
        return self._state.snapshot.notice

    def documents(self) -> list[DocRecord]:
        return sorted(self._state.snapshot.documents.values(), key=lambda d: d.doc_id)

    def refresh(self) -> bool:
        """Swap in the generation another process made live since this one loaded (no lock:
        readers never wait for writers). True when something changed."""
        current = self._state.snapshot.path
        live = live_generation(self.settings.paths.index_dir)
        if live is None or (current is not None and current.name == live):
            return False
        snapshot = load_snapshot(self.settings.paths.index_dir, self.settings.store)
        _check_model(snapshot, self.embedder, self.settings)
        self._swap(snapshot)
        return True

    def add_documents(
        self,
        paths: Sequence[Path],
        progress: Progress | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Index papers (files or folders) incrementally on top of the newest generation on
        disk; they are searchable as soon as this returns."""
        return self._write(progress, notify, paths=list(paths))

    def add_upload(self, name: str, data: bytes, progress: Progress | None = None) -> UploadResult:
        """Save an uploaded paper in the uploads folder and index it; say what happened.

        If indexing is cut short the saved file stays, and the next ingest (or the same
        upload again) indexes it."""
        saved = save_upload(self.settings, name, data, self._state.snapshot.documents)
        if isinstance(saved, UploadResult):
            return saved
        report = self.add_documents([saved.path], progress=progress)
        return upload_result(saved, report, self._state.snapshot.documents)

    def remove(
        self, targets: Sequence[str | Path], notify: Callable[[str], None] | None = None
    ) -> IngestReport:
        """Drop papers from the index by id or by the path they were ingested from."""
        from .ingest import remove_papers

        with self._ingest_lock:
            snapshot, report = remove_papers(
                self.settings, self.embedder, targets, base=self._state.snapshot, notify=notify
            )
            self._swap(snapshot)
        return report

    def reindex(
        self,
        rebuild: bool = False,
        progress: Progress | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Re-sync the bundled corpus; papers given by path or upload are kept (and re-embedded
        on ``rebuild``)."""
        return self._write(progress, notify, rebuild=rebuild)

    def _write(
        self, progress: Progress | None, notify: Callable[[str], None] | None, **run: Any
    ) -> IngestReport:
        from .ingest import run_ingest

        with self._ingest_lock:
            snapshot, report = run_ingest(
                self.settings,
                self.embedder,
                base=self._state.snapshot,
                progress=progress,
                notify=notify,
                **run,
            )
            self._swap(snapshot)
        return report

    # -- the index without loading it (the CLI's ingest, remove, index-info) ---------------

    @staticmethod
    def build(
        paths: Sequence[Path] | None = None,
        settings: Settings | None = None,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        notify: Callable[[str], None] | None = None,
        embedder: Embedder | None = None,
    ) -> IngestReport:
        """Build or update the index without opening it for questions (no query model): sync
        the bundled corpus, or add ``paths``; works when the index is missing or damaged."""
        from .ingest import ingest

        return ingest(
            paths,
            settings=settings,
            embedder=embedder,
            progress=progress,
            rebuild=rebuild,
            notify=notify,
        )

    @staticmethod
    def remove_from_index(
        targets: Sequence[str | Path],
        settings: Settings | None = None,
        *,
        notify: Callable[[str], None] | None = None,
        embedder: Embedder | None = None,
    ) -> IngestReport:
        """``remove`` without opening the index for questions."""
        from .ingest import remove_papers

        settings = settings or Settings()
        embedder = embedder or make_embedder(settings)
        return remove_papers(settings, embedder, targets, notify=notify)[1]

    @staticmethod
    def describe(settings: Settings | None = None) -> tuple[IndexSnapshot, IndexInfo]:
        """The index and its papers as ``info`` reports them, without loading the model."""
        from .embeddings import SentenceTransformerEmbedder

        settings = settings or Settings()
        snapshot = load_snapshot(settings.paths.index_dir, settings.store)
        name = SentenceTransformerEmbedder(settings.embedding).name
        return snapshot, index_info(snapshot, settings, name)

    def _swap(self, snapshot: IndexSnapshot) -> None:
        if snapshot is self._state.snapshot:
            return
        state = self._make_state(snapshot)
        with self._lock:
            self._state = state

    # -- questions ---------------------------------------------------------------------

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        *,
        papers: Iterable[str] | None = None,
    ) -> list[Passage]:
        """The top ``k`` passages for ``query`` (no answer); ``papers`` (doc ids, as
        ``assistant index-info`` lists them) searches only those papers."""
        check_knobs(k, mode)
        state = self._state
        chosen = chosen_papers(papers, state.snapshot)
        query = self._clean_question(query)[0]
        passages = state.retriever.retrieve(query, k=k, mode=mode, only_docs=chosen)
        plan = make_plan(query, lexicon=self.lexicon)
        if plan.front_matter:  # "who funded the study?": the funding line ranks first
            ranked = with_front_matter(state.retriever, plan, passages, within=chosen)
            passages = ranked[: len(passages)]
        return passages

    def check_papers(self, papers: Iterable[str] | None) -> list[str]:
        """The papers a question may be asked within, checked against the index: their ids
        (an alias as its indexed paper); raises the error ``ask`` would for a bad choice."""
        chosen = chosen_papers(papers, self._state.snapshot)
        return sorted(chosen) if chosen is not None else []

    def ask(
        self,
        question: str,
        history: History | None = None,
        *,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        papers: Iterable[str] | None = None,
    ) -> Answer:
        """Answer ``question`` from the papers, every claim cited; abstain when they don't.

        ``history`` (earlier turns) resolves follow-ups such as "Why?"; ``k`` and ``mode`` set
        the passages retrieved and the retrieval mode for this call only (default: settings);
        ``papers`` (doc ids, as ``assistant index-info`` lists them) asks within those papers
        only, even when the question names another (None: every paper).
        """
        final: Answer | None = None
        for piece in self._run(question, history, stream=False, k=k, mode=mode, papers=papers):
            if isinstance(piece, Answer):
                final = piece
        assert final is not None
        return final

    def stream(
        self,
        question: str,
        history: History | None = None,
        *,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        papers: Iterable[str] | None = None,
    ) -> Iterator[str | Answer]:
        """Yield the answer text in pieces as it is produced, then the final :class:`Answer`
        (arguments as for :meth:`ask`)."""
        yield from self._run(question, history, stream=True, k=k, mode=mode, papers=papers)

    def as_retriever(  # type: ignore[no-untyped-def]
        self, k: int | None = None, *, papers: Iterable[str] | None = None
    ):
        """A LangChain ``BaseRetriever`` over this index; ``papers`` (doc ids) searches only
        those papers, as :meth:`retrieve` does (checked now: a bad id raises here)."""
        from .retrieval.langchain import AssistantRetriever

        chosen = self.check_papers(papers) if papers is not None else None
        return AssistantRetriever(
            assistant=self, k=k or self.settings.retrieval.top_k, papers=chosen
        )

    def _run(
        self,
        question: str,
        history: History | None,
        stream: bool,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        papers: Iterable[str] | None = None,
    ) -> Iterator[str | Answer]:
        t0 = time.perf_counter()
        check_knobs(k, mode)
        state = self._state
        chosen = chosen_papers(papers, state.snapshot)
        text, notice = self._clean_question(question)
        if mostly_cjk(text):
            yield from _refusal(text, notice, self.answerer.name, _NOT_ENGLISH)
            return
        plan = self._plan(text, history, state)
        if chosen is not None:  # a paper the question names outside the choice is not searched
            plan = dataclasses.replace(plan, papers=tuple(p for p in plan.papers if p in chosen))
        context = state.context_for(chosen)
        if not plan.info.searchable and plan.overview is None:  # "what are these about?"
            yield from _refusal(text, notice, self.answerer.name, _NO_WORDS)
            return
        passages = self._passages(plan, state, k, mode, chosen)
        t1 = time.perf_counter()
        final: Answer | None = None
        if stream:
            for piece in self.answerer.stream(plan.text, passages, context, plan):
                if isinstance(piece, Answer):
                    final = piece
                else:
                    yield piece
        else:
            final = self.answerer.answer(plan.text, passages, context, plan)
        assert final is not None
        t2 = time.perf_counter()
        final.question = text  # the user sees their own question, not the rewrite
        final.timings = {"retrieve": t1 - t0, "answer": t2 - t1, "total": t2 - t0}
        notices = [n for n in (notice, self.answerer_notice, final.notice) if n]
        final.notice = " ".join(dict.fromkeys(notices)) or None
        yield final

    def _plan(self, text: str, history: History | None, state: _State) -> QuestionPlan:
        """The question read once, in its conversation: a follow-up ("Why?", "And the revised
        version?") resolved by the offline rules, or rewritten by an LLM answerer that can."""
        condense = getattr(self.answerer, "condense", None)
        wordy = re.search(r"\w", text) is not None  # "???" has nothing to condense
        condensed = (
            condense(text, normalise_history(history)) if condense and history and wordy else None
        )
        names = state.retriever.paper_names()
        return make_plan(text, history, self.lexicon, names, condensed=condensed)

    def _passages(
        self,
        plan: QuestionPlan,
        state: _State,
        k: int | None,
        mode: RetrievalMode | None,
        chosen: frozenset[str] | None = None,
    ) -> list[Passage]:
        """Retrieval as the plan asks: within the papers it names, next to the others for a
        comparison, with the asked-for front-matter field first; all of it within the papers
        the user chose (``chosen``; the plan's names are already cut to them)."""
        retriever = state.retriever
        named = set(plan.papers)
        # a comparison names one paper and sets it against others: rank them all
        only = chosen if plan.comparison or not named else named
        query = plan.search_query
        passages = retriever.retrieve(
            query, k=k, mode=mode, boost_doc=plan.boost_doc, only_docs=only
        )
        if not passages and only != chosen:  # nothing in the named papers: widen to the rest
            passages = retriever.retrieve(
                query, k=k, mode=mode, boost_doc=plan.boost_doc, only_docs=chosen
            )
        if plan.comparison and named:
            first = retriever.retrieve(query, k=k, mode=mode, only_docs=named)
            passages = interleave(first, passages, len(passages))
        if plan.front_matter:
            passages = with_front_matter(retriever, plan, passages, within=chosen)
        return passages

    def _clean_question(self, question: str) -> tuple[str, str | None]:
        return clean_question(question, self.settings.answer.max_question_chars)


_NOT_ENGLISH = "The papers are in English: please ask in English."
_NO_WORDS = "The question has no words to search for: name the topic you are asking about."


def _refusal(text: str, notice: str | None, answerer: str, why: str) -> Iterator[str | Answer]:
    """An abstention saying why the question cannot be searched; the reason is in the text
    only (not repeated as a notice, which the UI and the CLI show beside it)."""
    answer = abstention(text, [], answerer, why)
    answer.notice = notice
    yield answer.text
    yield answer


def _check_model(snapshot: IndexSnapshot, embedder: Embedder, settings: Settings) -> None:
    """The index must hold vectors of this model and dimension; else one line with the fix."""
    m = snapshot.manifest
    if m is None:
        return
    if m.embedding.model != embedder.name or m.embedding.dimension != embedder.dimension:
        raise IndexIncompatibleError(
            f"index at {settings.paths.index_dir} holds {m.embedding.dimension}-d vectors of "
            f"{m.embedding.model}, settings use {embedder.dimension}-d {embedder.name}: run "
            "`assistant ingest --rebuild` (papers given by path or upload are kept)"
        )
