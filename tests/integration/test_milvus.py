"""Milvus Lite as the vector store, with the real corpus vectors: same results as exact FAISS."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.chunking import embed_text
from assistant.embeddings import CachedEmbedder
from assistant.errors import IndexIncompatibleError
from assistant.ingest import ingest
from assistant.store import ChunkRecord, FaissVectorStore, load_snapshot
from assistant.store.milvus import MilvusTarget, MilvusVectorStore
from tests.conftest import make_settings

pytest.importorskip("pymilvus")
pytestmark = [pytest.mark.integration, pytest.mark.milvus]

Corpus = tuple[list[ChunkRecord], np.ndarray, dict[str, str | None]]
MODEL = "all-MiniLM-L6-v2"
QUERIES = [
    "When was the Sichuan pilot free trade zone set up?",
    "average annual growth of trade with Belt and Road countries",
    "challenges of science and technology innovation cooperation",
    "China-Europe railway express Chengdu logistics",
    "institutional constraints and financial risk",
]


def _release(uri: str) -> None:
    """Stop this process's Milvus Lite server for ``uri``, so the next open reads the disk."""
    from milvus_lite import server_manager_instance

    server_manager_instance.release_server(uri)


@pytest.fixture
def corpus_vectors(real_assistant: Assistant) -> Corpus:
    snap = real_assistant.snapshot
    groups = {d.doc_id: d.version_group for d in snap.documents.values()}
    return snap.chunks, snap.store.vectors(), groups


@pytest.fixture
def milvus(tmp_path: Path, corpus_vectors: Corpus) -> MilvusVectorStore:
    chunks, vectors, groups = corpus_vectors
    target = MilvusTarget(str(tmp_path / "milvus.db"), "test_chunks")
    store = MilvusVectorStore.create(target, MODEL, vectors.shape[1])
    store.insert(chunks, vectors, groups)
    return store.view([c.chunk_id for c in chunks])


def _queries(real_embedder: CachedEmbedder) -> np.ndarray:
    return real_embedder.embed(QUERIES)


def test_top10_equals_exact_faiss(
    milvus: MilvusVectorStore, corpus_vectors: Corpus, real_embedder: CachedEmbedder
) -> None:
    _, vectors, _ = corpus_vectors
    faiss_store = FaissVectorStore.build(vectors)
    assert faiss_store.kind == "flat" and milvus.size == len(vectors)
    queries = _queries(real_embedder)
    f_scores, f_pos = faiss_store.search(queries, 10)
    m_scores, m_pos = milvus.search(queries, 10)
    assert m_pos.tolist() == f_pos.tolist()
    np.testing.assert_allclose(m_scores, f_scores, atol=1e-4)


def test_search_within_one_document(
    milvus: MilvusVectorStore, corpus_vectors: Corpus, real_embedder: CachedEmbedder
) -> None:
    chunks, vectors, _ = corpus_vectors
    doc = chunks[0].doc_id
    own = np.array([i for i, c in enumerate(chunks) if c.doc_id == doc])
    query = _queries(real_embedder)[2:3]
    scores, positions = milvus.search(query, 5, doc_ids=[doc])
    exact = own[np.argsort(-(vectors[own] @ query[0]), kind="stable")[:5]]
    assert positions[0].tolist() == exact.tolist()
    assert {chunks[p].doc_id for p in positions[0]} == {doc}
    np.testing.assert_allclose(scores[0], vectors[exact] @ query[0], atol=1e-4)


def test_delete_a_document_then_add_it_back(
    milvus: MilvusVectorStore, corpus_vectors: Corpus, real_embedder: CachedEmbedder
) -> None:
    chunks, vectors, groups = corpus_vectors
    doc = chunks[-1].doc_id
    own = [i for i, c in enumerate(chunks) if c.doc_id == doc]
    queries = _queries(real_embedder)
    before = milvus.search(queries, 10)
    milvus.delete_documents([doc])
    assert milvus.size == len(chunks) - len(own)
    _, positions = milvus.search(queries, len(chunks))
    assert not set(positions[positions >= 0].tolist()) & set(own)
    milvus.insert([chunks[i] for i in own], vectors[own], groups)
    after = milvus.search(queries, 10)
    assert milvus.size == len(chunks)
    assert after[1].tolist() == before[1].tolist()
    np.testing.assert_allclose(after[0], before[0], atol=1e-6)


def test_reopen_from_disk(
    milvus: MilvusVectorStore, corpus_vectors: Corpus, real_embedder: CachedEmbedder
) -> None:
    chunks, vectors, _ = corpus_vectors
    queries = _queries(real_embedder)
    before = milvus.search(queries, 10)
    milvus.flush()
    milvus.client.close()
    _release(milvus.target.uri)
    reopened = MilvusVectorStore.open(
        milvus.target, [c.chunk_id for c in chunks], MODEL, vectors.shape[1]
    )
    assert reopened.size == len(chunks)
    assert reopened.search(queries, 10)[1].tolist() == before[1].tolist()
    np.testing.assert_allclose(reopened.vectors(), vectors, atol=1e-6)


def test_another_model_is_refused_with_the_fix(milvus: MilvusVectorStore) -> None:
    with pytest.raises(IndexIncompatibleError, match="MILVUS_COLLECTION.*--rebuild"):
        MilvusVectorStore.open(milvus.target, milvus.chunk_ids, "other-model", 384)
    missing = MilvusTarget(milvus.target.uri, "no_such_collection")
    with pytest.raises(IndexIncompatibleError, match="does not exist.*--rebuild"):
        MilvusVectorStore.open(missing, [], MODEL, 384)


def test_assistant_on_milvus_answers_like_faiss(
    tmp_path: Path, real_assistant: Assistant, real_embedder: CachedEmbedder
) -> None:
    settings = make_settings(tmp_path, store={"backend": "milvus"})
    bot = Assistant.load(settings, embedder=real_embedder)
    manifest = bot.snapshot.manifest
    assert (
        manifest is not None
        and manifest.backend == "milvus"
        and manifest.index_type == "milvus-flat"
    )
    assert not (bot.snapshot.path / "vectors.faiss").exists()  # type: ignore[operator]
    assert [c.chunk_id for c in bot.snapshot.chunks] == [
        c.chunk_id for c in real_assistant.snapshot.chunks
    ]
    for question in QUERIES[:3] + ["How much coffee does Brazil export to Europe each year?"]:
        want, got = real_assistant.ask(question), bot.ask(question)
        assert got.text == want.text
        assert [(c.doc_id, c.quote) for c in got.citations] == [
            (c.doc_id, c.quote) for c in want.citations
        ]
        assert [p.chunk_id for p in got.passages] == [p.chunk_id for p in want.passages]
    assert bot.status().message == "index is up to date"


def test_asking_within_one_paper_on_milvus(
    tmp_path: Path, real_assistant: Assistant, real_embedder: CachedEmbedder
) -> None:
    """``papers=`` is a ``doc_id`` filter expression inside the Milvus search: only that paper's
    chunks come back, ranked as FAISS's id selector ranks them, and the answer cites only it."""
    settings = make_settings(tmp_path, store={"backend": "milvus"})
    bot = Assistant.load(settings, embedder=real_embedder)
    doc = "002_b656026ce0905ff7.txt"
    for question in QUERIES[:3]:
        for mode in ("dense", "hybrid"):
            got = bot.retrieve(question, k=8, mode=mode, papers=[doc])
            want = real_assistant.retrieve(question, k=8, mode=mode, papers=[doc])
            assert got and {p.doc_id for p in got} == {doc}
            assert [p.chunk_id for p in got] == [p.chunk_id for p in want]
        answer = bot.ask(question, papers=[doc])
        assert {p.doc_id for p in answer.passages} == {doc}
        assert {c.doc_id for c in answer.citations} <= {doc}
    rows = bot.snapshot.layout.positions(doc)[:3]  # rows alone: a filter on their chunk ids
    _, found = bot.snapshot.store.search(real_embedder.embed(QUERIES[:1]), 10, positions=rows)
    assert sorted(found[0].tolist()) == sorted(rows.tolist())


def test_ingest_deletes_and_replaces_documents_by_id(
    tmp_path: Path, corpus_copy: Path, real_embedder: CachedEmbedder
) -> None:
    """Incremental re-index on Milvus: a removed paper's chunks go; a changed one's are swapped."""
    settings = make_settings(tmp_path, corpus=corpus_copy, store={"backend": "milvus"})
    ingest(settings=settings, embedder=real_embedder)
    # 003 stands alone; 002 is a version of 004 (000 is an alias of 001: never indexed itself)
    gone, changed = (
        corpus_copy / "003_8f09d066e0b864c5.txt",
        corpus_copy / "002_b656026ce0905ff7.txt",
    )
    moved = tmp_path / gone.name
    shutil.move(gone, moved)
    text = changed.read_text(encoding="utf-8")
    cut = text.index("\n\n", len(text) // 3)  # mid-body: the references are not chunked
    added = "\n\nMilvus holds these vectors now, says this added paragraph."
    changed.write_text(text[:cut] + added + text[cut:], encoding="utf-8")
    report = ingest(settings=settings, embedder=real_embedder)
    assert report.removed == [gone.name] and report.updated == [changed.name]
    snap = load_snapshot(settings.paths.index_dir, settings.store)
    # same count and every chunk id readable: the collection holds exactly this generation
    assert snap.store.size == len(snap.chunks) == report.chunks
    stored = snap.store.vectors()
    new = next(i for i, c in enumerate(snap.chunks) if "Milvus holds these" in c.text)
    fresh = real_embedder.embed([embed_text(snap.chunks[new].section, snap.chunks[new].text)])
    np.testing.assert_allclose(stored[new], fresh[0], atol=1e-6)
    query = real_embedder.embed(["Milvus holds these vectors now"])
    _, none = snap.store.search(query, 5, doc_ids=[gone.name])  # type: ignore[call-arg]
    assert (none == -1).all()
    _, own = snap.store.search(query, 500, doc_ids=[changed.name])  # type: ignore[call-arg]
    assert sorted(own[own >= 0].tolist()) == [
        i for i, c in enumerate(snap.chunks) if c.doc_id == changed.name
    ]
    # the answerer's sentence vectors sit in the generation folder beside the Milvus data
    table = snap.sentences
    assert table is not None and snap.manifest is not None
    assert table.size == snap.manifest.sentence_count and gone.name not in table.doc_ids
    clean = snap.documents[changed.name].clean_text
    span = clean.index("Milvus holds these")
    span_end = clean.index(".", span) + 1
    vectors, found = table.lookup([(changed.name, span, span_end)])
    assert found.all()
    fresh_sentence = real_embedder.embed([clean[span:span_end]])
    np.testing.assert_allclose(vectors[0], fresh_sentence[0], atol=1e-6)
    shutil.move(moved, gone)  # back again: only its chunks are re-sent
    report = ingest(settings=settings, embedder=real_embedder)
    assert report.added == [gone.name]
    snap = load_snapshot(settings.paths.index_dir, settings.store)
    assert snap.store.size == len(snap.chunks)
    assert any(c.doc_id == gone.name for c in snap.chunks)


def test_switching_faiss_to_milvus_moves_vectors_without_re_embedding(
    tmp_path: Path, real_embedder: CachedEmbedder
) -> None:
    faiss_settings = make_settings(tmp_path)
    first = ingest(settings=faiss_settings, embedder=real_embedder)
    milvus_settings = faiss_settings.with_updates(store={"backend": "milvus"})
    bot = Assistant.load(milvus_settings, embedder=real_embedder)
    assert bot.snapshot.manifest.backend == "faiss"  # type: ignore[union-attr]
    assert "settings say milvus" in bot.status().message
    inner = real_embedder.inner
    calls = inner.calls  # type: ignore[attr-defined]
    second = ingest(settings=milvus_settings, embedder=real_embedder)
    assert inner.calls == calls  # type: ignore[attr-defined]
    snap = load_snapshot(milvus_settings.paths.index_dir, milvus_settings.store)
    assert snap.manifest.backend == "milvus"  # type: ignore[union-attr]
    assert snap.store.size == first.chunks == second.chunks
    assert snap.sentences is not None and snap.sentences.size == second.sentences > 0
