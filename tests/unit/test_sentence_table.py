"""Sentence vectors stored at ingest: build, dedup, save/load (memory-mapped), incremental
reuse, the manifest check, and an index without them still answering the same."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.embeddings import HashEmbedder
from assistant.errors import IndexIncompatibleError
from assistant.ingest import Ingestor
from assistant.sentences import sentence_spans
from assistant.store import ChunkRecord, DocRecord, load_snapshot
from assistant.store.sentences import DOCS_FILE, SPANS_FILE, VECTORS_FILE, SentenceTable
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

_SHARED = "The Chengdu express carried twelve thousand containers in 2019."
_A = f"Rail links grew quickly across the region. {_SHARED} Exports doubled within a decade."
_B = f"A revised version of the study follows. {_SHARED} New routes opened to Lodz and Tilburg."


def _doc(doc_id: str, text: str) -> DocRecord:
    return DocRecord(doc_id=doc_id, path=doc_id, title=doc_id, content_hash=doc_id, clean_text=text)


def _chunks(doc: DocRecord, cut: int) -> list[ChunkRecord]:
    """Two overlapping chunks (they share the sentence around ``cut``)."""
    text = doc.clean_text
    first_end = text.index(". ", cut) + 1
    return [
        ChunkRecord(f"{doc.doc_id}::0", doc.doc_id, 0, "", text[:first_end], 0, first_end, 0),
        ChunkRecord(f"{doc.doc_id}::1", doc.doc_id, 1, "", text[cut:], cut, len(text), 0),
    ]


def _corpus() -> tuple[dict[str, DocRecord], list[ChunkRecord]]:
    docs = {d.doc_id: d for d in (_doc("a.txt", _A), _doc("b.txt", _B))}
    chunks = [c for d in docs.values() for c in _chunks(d, d.clean_text.index("The Chengdu"))]
    return docs, chunks


def test_table_holds_every_span_the_answerer_scores_with_the_model_vector() -> None:
    docs, chunks = _corpus()
    embedder = HashEmbedder()
    table = SentenceTable.build(docs, chunks, embedder.embed, embedder.dimension)
    wanted = {
        (c.doc_id, a, b)
        for c in chunks
        for a, b in sentence_spans(docs[c.doc_id].clean_text, c.start, c.end)
    }
    stored = {(d, a, b) for d in table.doc_ids for a, b, _ in table.doc_spans(d).tolist()}
    assert stored == wanted and table.size == len(wanted)
    keys = sorted(wanted)
    vectors, found = table.lookup(keys)
    assert found.all()
    texts = [docs[d].clean_text[a:b] for d, a, b in keys]
    np.testing.assert_array_equal(vectors, HashEmbedder().embed(texts))
    # the shared sentence (in both papers, and in both chunks of each) is embedded once
    assert len(table.vectors) == len(set(texts)) < len(keys)
    assert embedder.calls == len(set(texts))


def test_lookup_reports_spans_it_does_not_hold() -> None:
    docs, chunks = _corpus()
    table = SentenceTable.build(docs, chunks, HashEmbedder().embed, 64)
    vectors, found = table.lookup([("a.txt", 0, 5), ("missing.txt", 0, 10), ("b.txt", 0, 39)])
    assert found.tolist() == [False, False, True]
    assert not vectors[0].any() and not vectors[1].any() and vectors[2].any()


def test_save_and_load_round_trip_memory_mapped(tmp_path: Path) -> None:
    docs, chunks = _corpus()
    table = SentenceTable.build(docs, chunks, HashEmbedder().embed, 64)
    table.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {VECTORS_FILE, SPANS_FILE, DOCS_FILE}
    loaded = SentenceTable.load(tmp_path, table.size, 64)
    assert isinstance(loaded.spans, np.memmap) and isinstance(loaded.vectors, np.memmap)
    assert loaded.doc_ids == table.doc_ids
    np.testing.assert_array_equal(loaded.spans, table.spans)
    np.testing.assert_array_equal(loaded.vectors, table.vectors)
    with pytest.raises(ValueError, match="manifest says"):
        SentenceTable.load(tmp_path, table.size + 1, 64)
    with pytest.raises(ValueError, match="holds 64-d float32 vectors, the index 32-d"):
        SentenceTable.load(tmp_path, table.size, 32)


def test_kept_papers_keep_their_rows_and_only_new_sentences_are_embedded() -> None:
    docs, chunks = _corpus()
    old = SentenceTable.build(docs, chunks, HashEmbedder().embed, 64)
    docs["c.txt"] = _doc("c.txt", f"{_SHARED} A third paper adds one sentence of its own.")
    new_chunks = [c for c in chunks if c.doc_id == "a.txt"] + _chunks(docs["c.txt"], 0)[1:]
    embedder = HashEmbedder()
    table = SentenceTable.build(docs, new_chunks, embedder.embed, 64, old, kept={"a.txt"})
    assert table.doc_ids == ["a.txt", "c.txt"]  # b.txt dropped with its chunks
    np.testing.assert_array_equal(table.doc_spans("a.txt")[:, :2], old.doc_spans("a.txt")[:, :2])
    # the shared sentence comes from a.txt's stored vector; only c.txt's own is embedded
    assert embedder.calls == 1
    keys = [("c.txt", a, b) for a, b, _ in table.doc_spans("c.txt").tolist()]
    keys += [("a.txt", a, b) for a, b, _ in old.doc_spans("a.txt").tolist()]
    vectors, found = table.lookup(keys)
    assert found.all()
    texts = [docs[d].clean_text[a:b] for d, a, b in keys]
    np.testing.assert_array_equal(vectors, HashEmbedder().embed(texts))


def test_ingest_stores_the_table_and_the_manifest_counts_it(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    snap, report = Ingestor(settings, HashEmbedder()).run()
    loaded = load_snapshot(settings.paths.index_dir)
    assert loaded.sentences is not None and snap.sentences is not None
    assert loaded.manifest is not None and loaded.manifest.sentence_count == report.sentences > 0
    assert isinstance(loaded.sentences.vectors, np.memmap)
    assert len(loaded.sentences.vectors) < loaded.sentences.size  # overlapping chunks share
    # removing a paper keeps the others' rows as they were
    gone = sorted(snap.sentences.doc_ids)[0]
    after, _ = Ingestor(settings, HashEmbedder()).run([], remove=[gone])
    assert after.sentences is not None and gone not in after.sentences.doc_ids
    both = set(after.sentences.doc_ids) & set(snap.sentences.doc_ids)  # (an alias of the
    assert len(both) >= 2  # removed paper is indexed in its place, with new rows)
    for d in both:
        old_rows, new_rows = snap.sentences.doc_spans(d), after.sentences.doc_spans(d)
        np.testing.assert_array_equal(new_rows[:, :2], old_rows[:, :2])
        np.testing.assert_array_equal(
            after.sentences.vectors[new_rows[:, 2]], snap.sentences.vectors[old_rows[:, 2]]
        )


def test_a_count_that_disagrees_with_the_table_is_one_line_with_the_fix(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    snap, _ = Ingestor(settings, HashEmbedder()).run()
    path = snap.path / "manifest.json"  # type: ignore[operator]
    data = json.loads(path.read_text())
    data["sentence_count"] += 1
    path.write_text(json.dumps(data))
    with pytest.raises(IndexIncompatibleError, match="assistant ingest --rebuild") as e:
        load_snapshot(settings.paths.index_dir)
    assert "sentence" in str(e.value) and "\n" not in str(e.value)


def test_index_without_the_table_answers_the_same_and_gets_it_on_next_ingest(
    tmp_path: Path, corpus_copy: Path
) -> None:
    """An index built before the table existed: loads, answers by embedding at question time
    (the same answers), and a plain ingest adds the table."""
    settings = make_settings(tmp_path, corpus_copy)
    embedder = HashEmbedder()
    snap, _ = Ingestor(settings, embedder).run()
    fast = Assistant(settings, snap, embedder)
    gen = snap.path
    assert gen is not None
    for name in (VECTORS_FILE, SPANS_FILE, DOCS_FILE):
        (gen / name).unlink()
    data = json.loads((gen / "manifest.json").read_text())
    del data["sentence_count"]
    (gen / "manifest.json").write_text(json.dumps(data))
    (gen / "checksums.json").unlink()  # such an index predates checksums too
    old = load_snapshot(settings.paths.index_dir)
    assert old.sentences is None
    slow = Assistant(settings, old, embedder)
    questions = [
        "What challenges do the papers identify?",
        "How many trains ran on the China-Europe railway?",
        "Why does the Belt and Road Initiative matter for Sichuan?",
    ]
    texts = {"fast": 0, "slow": 0}  # texts each path sent to the encoder
    for q in questions:
        calls = embedder.calls
        a = fast.ask(q)
        texts["fast"] += embedder.calls - calls
        calls = embedder.calls
        b = slow.ask(q)
        texts["slow"] += embedder.calls - calls
        assert (a.text, a.abstained, a.confidence) == (b.text, b.abstained, b.confidence)
        assert [c.model_dump() for c in a.citations] == [c.model_dump() for c in b.citations]
    assert texts["fast"] < texts["slow"] / 5
    upgraded, report = Ingestor(settings, embedder).run()
    assert upgraded.sentences is not None and upgraded.path != gen
    assert report.sentences == upgraded.sentences.size
