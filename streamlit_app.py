"""BRI Papers Assistant: a chat UI over the public ``assistant`` API.

UI only: retrieval, answering, citations and ingest all live in the library; this file lays out
their results. Run with ``streamlit run streamlit_app.py`` (``make run``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator, Mapping
from itertools import chain

import streamlit as st
from pydantic import ValidationError
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.uploaded_file_manager import UploadedFile

from assistant import Answer, Assistant, Settings
from assistant.errors import AssistantError
from assistant.papers import IndexInfo, PaperInfo
from assistant.settings import RetrievalMode
from assistant.store import DocRecord
from assistant.types import Turn
from assistant.ui_support import (
    UPLOAD_TYPES,
    ChatEntry,
    SourceCard,
    answer_html,
    answer_markdown,
    authors_line,
    card_text,
    check_upload,
    doc_label,
    escape_markdown,
    export_markdown,
    file_label,
    format_built_at,
    highlight_html,
    pages_line,
    plural,
    progress_value,
    short_title,
    source_cards,
    versions_line,
)

TITLE = "BRI Papers Assistant"
EXAMPLES = (
    "What are the four challenges Sichuan faces in integrating S&T innovation into the Belt "
    "and Road?",
    "When was the Sichuan Pilot Free Trade Zone established?",
    "How did the revised Zheng & Guo paper change its strategies?",
)
MODES = ("hybrid", "dense", "bm25")
MODE_LABELS = {"hybrid": "Hybrid", "dense": "Dense", "bm25": "BM25"}
CSS = """
<style>
.block-container {padding-top: 2.2rem; max-width: 860px;}
mark {background: #ffe58f; padding: 0 .15em; border-radius: 3px;}
.bri-passage {font-size: .9rem; line-height: 1.55; color: #31333f; max-height: 14rem;
  overflow-y: auto; padding: .1rem .2rem;}
.bri-card-title {font-weight: 600; line-height: 1.35;}
.bri-marker {display: inline-block; min-width: 1.6em; text-align: center; font-size: .8rem;
  font-weight: 600; color: #fff; background: #c0392b; border-radius: .8em; padding: 0 .4em;
  margin-right: .35em;}
.bri-doc {margin-bottom: .7rem;}
.bri-doc-title {font-size: .85rem; font-weight: 600; line-height: 1.3;}
.bri-meta {font-size: .8rem; color: #6b6f76; margin-top: .15rem;}
.bri-cite {color: #c0392b; font-weight: 600; font-size: .85em; white-space: nowrap;}
.bri-more summary {font-size: .8rem; color: #6b6f76; cursor: pointer; margin-top: .3rem;}
.bri-paper-ref {color: #8a8f98; font-weight: 400; font-size: .72em; vertical-align: super;
  line-height: 0; white-space: nowrap; cursor: help;}
[data-testid="stAppDeployButton"] {display: none;}
</style>
"""


Records = Mapping[str, DocRecord]  # the index's papers: authors found in their own text


# -- loading -----------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _load_assistant(settings_json: str) -> Assistant:
    """One model and index per process (and per settings, so tests can point elsewhere)."""
    bot = Assistant.load(Settings.model_validate_json(settings_json))
    bot.retrieve("Belt and Road", k=1)  # loads the encoder now, not on the first question
    return bot


def _settings() -> Settings | None:
    try:
        return Settings()
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        st.error(
            f"Invalid setting `{where}`: {first.get('msg')}. Fix the ASSISTANT_* environment "
            "variable or assistant.toml and reload the page."
        )
        return None
    except tomllib.TOMLDecodeError as e:
        st.error(escape_markdown(f"assistant.toml is not valid TOML ({e}): fix it and reload."))
        return None


def _assistant() -> Assistant | None:
    """The shared Assistant, built on first use; errors shown as one line, never a traceback."""
    settings = _settings()
    if settings is None:
        return None
    first_run = not Assistant.has_index(settings)
    label = "Building the index (first run)…" if first_run else "Loading the model and index…"
    try:
        with st.spinner(label):
            return _load_assistant(settings.model_dump_json())
    except AssistantError as e:
        st.error(escape_markdown(f"Could not open the index: {e}"))
    except OSError as e:
        where = settings.paths.index_dir
        st.error(escape_markdown(f"Could not read or write the index folder {where}: {e}"))
    return None


def _knobs(
    base: Assistant, docs: dict[str, PaperInfo]
) -> tuple[RetrievalMode, int, list[str] | None]:
    """This session's retrieval mode, top-k and chosen papers (the sidebar's; no papers
    chosen: all of them), passed to each question: the one shared Assistant is never cloned
    for them."""
    mode = st.session_state.get("mode", base.settings.retrieval.mode)
    top_k = st.session_state.get("top_k", base.settings.retrieval.top_k)
    papers = [p for p in st.session_state.get("papers", []) if p in docs]  # one removed since
    return mode, int(top_k), papers or None


# -- sidebar -----------------------------------------------------------------------------


def _sidebar(base: Assistant, info: IndexInfo) -> DeltaGenerator:
    """Chat actions, settings, uploads, corpus and index; returns the export button's slot."""
    docs = {p.doc_id: p for p in info.papers}
    with st.sidebar:
        st.markdown(f"### {TITLE}")
        st.button("New chat", icon=":material/add_comment:", on_click=_new_chat, width="stretch")
        export_slot = st.empty()
        _settings_panel(base)
        _papers_panel(docs)
        _upload_panel(base, docs)
        _corpus_panel(docs, base.snapshot.documents)
        _index_panel(info)
    return export_slot


def _settings_panel(base: Assistant) -> None:
    st.markdown("#### Settings")
    default_mode = base.settings.retrieval.mode
    st.radio(
        "Retrieval mode",
        MODES,
        index=MODES.index(default_mode),
        key="mode",
        horizontal=True,
        format_func=MODE_LABELS.__getitem__,
        help="Dense: embeddings. BM25: keywords. Hybrid: both, fused by reciprocal rank.",
    )
    st.slider(
        "Passages per question (top-k)", 1, 20, value=base.settings.retrieval.top_k, key="top_k"
    )
    st.caption(f"Answer backend: **{base.answerer.name}**")
    if base.answerer_notice:
        st.info(base.answerer_notice, icon=":material/info:")


def _papers_panel(docs: dict[str, PaperInfo]) -> None:
    """Which papers to ask within: none chosen searches every paper."""
    indexed = sorted((d for d in docs.values() if d.alias_of is None), key=lambda d: d.title)
    st.multiselect(
        "Ask within papers",
        [d.doc_id for d in indexed],
        default=None,
        key="papers",
        format_func=lambda doc_id: _paper_label(docs[doc_id]),
        placeholder="All papers",
        help="Questions search only the chosen papers; choose none to search them all.",
    )


def _paper_label(doc: PaperInfo) -> str:
    year = f", {doc.year}" if doc.year else ""
    return f"{short_title(doc.title, 60)}{year} ({doc.doc_id})"


def _corpus_panel(docs: dict[str, PaperInfo], records: Records) -> None:
    indexed = [d for d in docs.values() if d.alias_of is None]
    chunks = sum(d.chunks for d in indexed)
    label = f"Corpus: {plural(len(indexed), 'paper')} ({plural(len(docs), 'file')})"
    with st.expander(f"{label}, {plural(chunks, 'chunk')}", icon=":material/library_books:"):
        for doc in indexed:
            st.markdown(_corpus_row(doc, indexed, records), unsafe_allow_html=True)
            if doc.source != "corpus":  # bundled papers come back with the corpus sync
                st.button(
                    "Remove",
                    key=f"remove-{doc.doc_id}",
                    icon=":material/delete:",
                    on_click=_queue_removal,
                    args=(doc.doc_id,),
                    help=f"Remove {doc.doc_id} from the index",
                )


def _corpus_row(doc: PaperInfo, indexed: list[PaperInfo], records: Records) -> str:
    authors = authors_line(doc.doc_id, {doc.doc_id: doc}, records)
    notes = [_html(authors), plural(doc.chunks, "chunk")]
    if doc.aliases:
        notes.append("same text also as " + ", ".join(_html(a) for a in doc.aliases))
    others = [
        o.doc_id
        for o in indexed
        if doc.version_group and o.version_group == doc.version_group and o is not doc
    ]
    if others:
        notes.append("other version: " + ", ".join(_html(o) for o in others))
    if doc.source == "upload":
        notes.append("<b>uploaded</b>")
    elif doc.source == "path":
        notes.append(f"added from {_html(doc.path)}")
    if doc.state != "ok":
        notes.append(f"<b>{_html(doc.state)}</b>")
    return (
        f'<div class="bri-doc"><div class="bri-doc-title" title="{_html(doc.title)}">'
        f"{_html(short_title(doc.title, 90))}</div>"
        f'<div class="bri-meta">{_html(doc.doc_id)}<br>{" · ".join(notes)}</div></div>'
    )


def _queue_removal(doc_id: str) -> None:
    st.session_state["_remove"] = doc_id


def _remove_queued(base: Assistant) -> None:
    """Remove the paper whose button was pressed (through the public API, under its lock)."""
    doc_id = st.session_state.pop("_remove", None)
    if doc_id is None:
        return
    try:
        base.remove([doc_id])
    except (AssistantError, OSError) as e:
        st.session_state["_upload_log"] = [("error", f"Could not remove {doc_id}: {e}")]
    else:
        st.session_state["_upload_log"] = [("success", f"Removed {doc_id} from the index")]


def _index_panel(info: IndexInfo) -> None:
    with st.expander("Index status", icon=":material/database:"):
        if info.notice:
            st.warning(escape_markdown(info.notice), icon=":material/warning:")
        status = info.status
        if status.stale or not status.exists:
            st.warning(escape_markdown(status.message), icon=":material/warning:")
        else:
            st.success("Index is up to date", icon=":material/check_circle:")
        st.caption(
            f"Model: **{escape_markdown(info.model)}** · {info.chunks} chunks · "
            f"built {format_built_at(info.built_at)}"
        )


def _upload_panel(base: Assistant, docs: dict[str, PaperInfo]) -> None:
    st.markdown("#### Add papers")
    key = f"uploader-{st.session_state.get('_uploader_n', 0)}"
    files = st.file_uploader(
        "PDF, TXT or Markdown",
        type=list(UPLOAD_TYPES),
        accept_multiple_files=True,
        key=key,
        max_upload_size=max(1, math.ceil(base.settings.corpus.max_file_mb)),
        help=f"Up to {base.settings.corpus.max_file_mb:g} MB each; searchable as soon as indexed.",
    )
    for level, message in st.session_state.get("_upload_log", []):
        getattr(st, level)(escape_markdown(message))
    if files:
        st.session_state["_upload_log"] = _ingest_uploads(base, docs, files)
        st.session_state["_uploader_n"] = st.session_state.get("_uploader_n", 0) + 1
        st.rerun()


Log = list[tuple[str, str]]  # (st function name, message) shown under the uploader


def _ingest_uploads(base: Assistant, docs: dict[str, PaperInfo], files: list[UploadedFile]) -> Log:
    """Check, save and index each file through the public API; say what happened to each."""
    log: Log = []
    uploads = base.settings.paths.uploads_dir
    bar = st.progress(0.0, text="Indexing…")

    def progress(stage: str, done: int, total: int) -> None:
        value, label = progress_value(stage, done, total)
        bar.progress(value, text=label)

    for f in files:
        problem = check_upload(f.name, f.size, base.settings.corpus.max_file_mb, uploads, docs)
        if problem is not None:
            log.append((problem.level, problem.message))
            continue
        try:
            result = base.add_upload(f.name, f.getvalue(), progress=progress)
        except (AssistantError, OSError) as e:
            log.append(("error", f"{f.name}: indexing failed, nothing was added: {e}"))
            continue
        log.append((result.level, result.message))
    bar.empty()
    return log


def _new_chat() -> None:
    st.session_state["messages"] = []


def _export_button(slot: DeltaGenerator, entries: list[ChatEntry]) -> None:
    slot.download_button(
        "Export chat as Markdown",
        data=export_markdown(entries),
        file_name="bri-chat.md",
        mime="text/markdown",
        icon=":material/download:",
        disabled=not entries,
        width="stretch",
        help="Download the chat as Markdown, with each citation's quote and source.",
    )


# -- chat --------------------------------------------------------------------------------


def _render_answer(
    answer: Answer, docs: dict[str, PaperInfo], records: Records, label: str = ""
) -> None:
    if answer.abstained:
        st.warning(answer_markdown(answer.text), icon=":material/search_off:")
    else:
        st.markdown(answer_html(answer.text, answer.citations), unsafe_allow_html=True)
    if answer.notice:
        st.info(escape_markdown(answer.notice), icon=":material/info:")
    if answer.unsupported:
        unsupported = escape_markdown(" ".join(answer.unsupported))
        st.caption("⚠️ Not supported by a cited passage: " + unsupported)
    if answer.abstained:
        if answer.passages:
            with st.expander("Closest passages (they do not answer the question)", expanded=True):
                for passage in answer.passages[:3]:
                    _render_card(SourceCard(passage=passage), docs, records)
    else:
        for card in source_cards(answer.citations):
            _render_card(card, docs, records)
    st.caption(_footer(answer, label))


def _footer(answer: Answer, label: str) -> str:
    parts = [answer.answerer]
    if label:
        parts.append(label)
    parts.append(f"{len(answer.passages)} passages searched")
    if "total" in answer.timings:
        parts.append(f"{answer.timings['total']:.2f} s")
    return " · ".join(parts)


def _render_card(card: SourceCard, docs: dict[str, PaperInfo], records: Records) -> None:
    p = card.passage
    markers = "".join(f'<span class="bri-marker">{m}</span>' for m in card.markers)
    where = [authors_line(p.doc_id, docs, records), p.section or "no section"]
    where += [w for w in (pages_line(card), file_label(p.doc_id, docs)) if w]
    shown = card_text(p.text, card.quotes)
    with st.container(border=True):
        st.markdown(
            f'<div class="bri-card-title">{markers}{_html(doc_label(p.doc_id, docs))}</div>'
            f'<div class="bri-meta">{" · ".join(_html(w) for w in where)}</div>',
            unsafe_allow_html=True,
        )
        body = highlight_html(shown.text, shown.quotes)
        if shown.trimmed:  # the text under a cited list item may be about something else
            body += (
                '<details class="bri-more"><summary>Whole passage (the text under this item '
                f"is not quoted)</summary>{highlight_html(p.text, card.quotes)}</details>"
            )
        st.markdown(f'<div class="bri-passage">{body}</div>', unsafe_allow_html=True)
        notes = [versions_line(p, docs)]
        if not card.verified:
            notes.append("⚠️ the quote may not fully support the claim")
        if any(notes):
            st.caption(escape_markdown(" · ".join(n for n in notes if n)))


def _html(text: str) -> str:
    """Paper text inside the app's own HTML: no markup of any kind survives."""
    return escape_markdown(text)


def _history_view(entries: list[ChatEntry], docs: dict[str, PaperInfo], records: Records) -> None:
    for entry in entries:
        with st.chat_message("user"):
            st.markdown(answer_markdown(entry.question))
        with st.chat_message("assistant"):
            if entry.error:
                st.error(escape_markdown(entry.error))
            elif entry.answer is not None:
                _render_answer(entry.answer, docs, records, entry.settings_label)


def _ask(
    bot: Assistant,
    question: str,
    entries: list[ChatEntry],
    docs: dict[str, PaperInfo],
    records: Records,
) -> None:
    """Stream one answer into the chat and keep it in the conversation."""
    history = [Turn(question=e.question, answer=e.answer) for e in entries if e.answer]
    mode, top_k, papers = _knobs(bot, docs)
    label = f"{MODE_LABELS[mode]} · top-{top_k}"
    if papers:
        label += f" · within {plural(len(papers), 'paper')}"
    with st.chat_message("user"):
        st.markdown(answer_markdown(question))
    with st.chat_message("assistant"):
        slot = st.empty()
        try:
            answer = _stream_into(
                slot, bot.stream(question, history, k=top_k, mode=mode, papers=papers)
            )
        except AssistantError as e:
            slot.error(escape_markdown(str(e)))
            entries.append(ChatEntry(question, error=str(e), settings_label=label))
            return
        with slot.container():
            _render_answer(answer, docs, records, label)
    entries.append(ChatEntry(question, answer=answer, settings_label=label))


def _stream_into(slot: DeltaGenerator, pieces: Iterator[str | Answer]) -> Answer:
    """Show the text as it arrives (with a cursor); return the final Answer."""
    with st.spinner("Searching the papers…"):
        first = next(pieces, None)  # retrieval happens before the first piece
    text, final = "", None
    for piece in chain([first], pieces):
        if isinstance(piece, Answer):
            final = piece
        elif piece is not None:
            text += piece
            slot.markdown(answer_html(text) + " ▌", unsafe_allow_html=True)
    if final is None:
        raise AssistantError("the assistant ended without an answer: try asking again")
    return final


def _examples() -> None:
    st.markdown("##### Try one of these")
    for n, example in enumerate(EXAMPLES):
        st.button(
            example,
            key=f"example-{n}",
            on_click=_queue,
            args=(example,),
            icon=":material/chat_bubble:",
            width="stretch",
        )


def _queue(question: str) -> None:
    st.session_state["_pending"] = question


def main() -> None:
    st.set_page_config(page_title=TITLE, page_icon="📚", layout="centered")
    st.html(CSS)  # style-only html takes no room on the page
    st.title(TITLE)
    st.caption(
        "Answers come only from the indexed research papers on Sichuan and the Belt and Road "
        "Initiative. Every claim carries a citation [n] to the exact passage it is quoted from; "
        "when the papers don't say, the assistant says so."
    )
    base = _assistant()
    if base is None:
        st.stop()
    _remove_queued(base)
    try:
        base.refresh()  # papers another process (the CLI, another app) added since loading
    except (AssistantError, OSError) as e:
        st.warning(escape_markdown(f"Could not load the newest index: {e}"))
    info = base.info()
    export_slot = _sidebar(base, info)
    docs = {p.doc_id: p for p in info.papers}
    entries: list[ChatEntry] = st.session_state.setdefault("messages", [])
    typed = st.chat_input("Ask about the papers…")
    question = typed if typed is not None else st.session_state.pop("_pending", None)
    if not entries and question is None:
        _examples()
    records = base.snapshot.documents
    _history_view(entries, docs, records)
    if question is not None:
        if not question.strip():
            st.error("Empty question: type a question about the papers.")
        else:
            _ask(base, question, entries, docs, records)
    _export_button(export_slot, entries)  # last, so it includes this turn


main()
