"""The on-disk chunk and paper tables: exact round trips, random access, laziness, damage."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.answering.base import AnswerContext
from assistant.embeddings import HashEmbedder
from assistant.errors import IndexIncompatibleError
from assistant.ingest import Ingestor
from assistant.store import (
    ChunkRecord,
    DocRecord,
    FaissVectorStore,
    IndexSnapshot,
    load_records,
    load_snapshot,
)
from assistant.store.chunk_table import ChunkTable, read_tables, write_tables
from assistant.store.layout import ChunkLayout
from tests.conftest import make_settings

pytestmark = pytest.mark.unit


def _docs() -> dict[str, DocRecord]:
    a = DocRecord(
        "a.txt",
        "a.txt",
        "Chengdu “rail” hub",
        "h1",
        authors=["Ann Lee", "Bo Chen"],
        clean_text="Title\n\nFirst part.\n\nSecond part é 成都.",
        sections=[["Intro", 7, 18]],
        segments=[[0, 0, 37]],
        minhash=[1, 2, 3],
        chunk_count=3,
    )
    b = DocRecord("b.txt", "b.txt", "Second", "h2", clean_text="Other text", alias_of=None)
    dup = DocRecord("c.txt", "c.txt", "Copy", "h1", alias_of="a.txt")
    return {d.doc_id: d for d in (a, b, dup)}


def _chunks() -> list[ChunkRecord]:
    # a.txt's chunks out of text order, interleaved with b.txt's: positions are kept as given
    return [
        ChunkRecord("a::1", "a.txt", 1, "Intro", "Second part é 成都.", 20, 37, 5),
        ChunkRecord("b::0", "b.txt", 0, "", "Other\ntext", 0, 10, 2),
        ChunkRecord("a::0", "a.txt", 0, "", "Title\n\nFirst part.", 0, 19, 4),
        ChunkRecord("a::2", "a.txt", 2, "Intro", "part.", 13, 18, 1),
    ]


def test_tables_round_trip_with_random_access_and_order(tmp_path: Path) -> None:
    docs, chunks = _docs(), _chunks()
    write_tables(docs, chunks, tmp_path)
    loaded_docs, table = read_tables(tmp_path)
    assert len(table) == 4 and list(table) == chunks and table == chunks
    assert table[2] == chunks[2] and table[-1] == chunks[-1] and table[1:3] == chunks[1:3]
    with pytest.raises(IndexError):
        table[4]
    assert list(loaded_docs) == list(docs)  # paper order kept
    for doc_id, doc in docs.items():
        assert asdict(loaded_docs[doc_id]) == asdict(doc)
        assert loaded_docs[doc_id] == doc and doc == loaded_docs[doc_id]
    # the chunk file stays one JSON object per line, readable without this code
    lines = (tmp_path / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    assert [ChunkRecord(**json.loads(line)) for line in lines] == chunks
    assert not list(tmp_path.glob("*.pkl"))


def test_layout_from_disk_matches_the_one_from_a_list(tmp_path: Path) -> None:
    chunks = _chunks()
    write_tables(_docs(), chunks, tmp_path)
    _, table = read_tables(tmp_path)
    for layout in (table.layout, ChunkLayout.of(chunks)):
        assert [layout.doc_id(i) for i in range(4)] == [c.doc_id for c in chunks]
        assert layout.positions("a.txt").tolist() == [2, 3, 0]  # by start: 0, 13, 20
        assert layout.positions("b.txt").tolist() == [1]
        assert layout.positions("c.txt").tolist() == []  # an alias has no chunks


def test_answer_context_finds_the_chunk_at_an_offset(tmp_path: Path) -> None:
    chunks = _chunks()
    write_tables(_docs(), chunks, tmp_path)
    docs, table = read_tables(tmp_path)
    store = FaissVectorStore.build(np.zeros((4, 8), np.float32))
    for snap in (IndexSnapshot(None, docs, table, store), IndexSnapshot(None, docs, chunks, store)):
        ctx = AnswerContext(snap)
        assert ctx.chunk_at("a.txt", 5) == chunks[2]
        assert ctx.chunk_at("a.txt", 21) == chunks[0]
        assert ctx.chunk_at("a.txt", 100) == chunks[0]  # past the end: the last chunk
        assert ctx.chunk_at("nope", 1) is None


def test_paper_texts_are_read_only_when_used(tmp_path: Path) -> None:
    write_tables(_docs(), _chunks(), tmp_path)
    docs, _ = read_tables(tmp_path)
    a = docs["a.txt"]
    assert a.title == "Chengdu “rail” hub" and a.authors == ["Ann Lee", "Bo Chen"]
    assert "clean_text" not in vars(a) and "minhash" not in vars(a)
    assert a.clean_text.endswith("成都.") and a.sections == [["Intro", 7, 18]]
    a.clean_text = "replaced"  # a set value wins over the stored one
    assert a.clean_text == "replaced" and docs["b.txt"].clean_text == "Other text"


def test_empty_tables(tmp_path: Path) -> None:
    write_tables({}, [], tmp_path)
    docs, table = read_tables(tmp_path)
    assert docs == {} and len(table) == 0 and list(table) == [] and table[0:5] == []
    assert table.layout.positions("a.txt").tolist() == []


@pytest.mark.parametrize(
    "damage",
    ["truncate-chunks", "truncate-papers", "drop-array", "tables-format"],
)
def test_damaged_tables_are_one_line_with_the_fix(tmp_path: Path, damage: str) -> None:
    write_tables(_docs(), _chunks(), tmp_path)
    if damage == "truncate-chunks":
        data = (tmp_path / "chunks.jsonl").read_bytes()
        (tmp_path / "chunks.jsonl").write_bytes(data[:-7])
    elif damage == "truncate-papers":
        data = (tmp_path / "papers.jsonl").read_bytes()
        (tmp_path / "papers.jsonl").write_bytes(data[:-7])
    elif damage == "drop-array":
        (tmp_path / "chunks.doc.npy").unlink()
    else:
        meta = json.loads((tmp_path / "tables.json").read_text())
        (tmp_path / "tables.json").write_text(json.dumps({**meta, "format": 99}))
    with pytest.raises(IndexIncompatibleError, match="assistant ingest --rebuild") as e:
        read_tables(tmp_path)
    assert "\n" not in str(e.value)


def test_a_garbled_row_is_one_line_when_read(tmp_path: Path) -> None:
    write_tables(_docs(), _chunks(), tmp_path)
    path = tmp_path / "chunks.jsonl"
    data = bytearray(path.read_bytes())
    data[2:12] = b"#" * 10  # same size: only reading the row can tell
    path.write_bytes(bytes(data))
    _, table = read_tables(tmp_path)
    assert table[1] == _chunks()[1]
    with pytest.raises(IndexIncompatibleError, match=r"chunk 0 .* --rebuild"):
        table[0]


def test_damaged_chunk_table_loads_the_previous_generation(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    first, _ = Ingestor(settings, HashEmbedder()).run()
    paper = tmp_path / "extra.txt"
    paper.write_text("Extra note\n\nThe Chengdu express ran twelve trains weekly.\n")
    second, _ = Ingestor(settings, HashEmbedder()).run([paper])
    assert second.path is not None and first.path is not None
    data = (second.path / "chunks.jsonl").read_bytes()
    (second.path / "chunks.jsonl").write_bytes(data[: len(data) // 2])
    snap = load_snapshot(settings.paths.index_dir)
    assert snap.path == first.path and "unreadable" in (snap.notice or "")
    added = set(second.documents) - set(first.documents)
    assert added and added <= set(load_records(settings.paths.index_dir))  # papers still read
    restored, _ = Ingestor(settings, HashEmbedder()).run()
    assert added <= set(restored.documents)
    assert len(load_snapshot(settings.paths.index_dir).chunks) == len(restored.chunks)


def _as_format_2(gen: Path) -> None:
    """Rewrite a generation as the previous format wrote it (documents.json, chunks.jsonl)."""
    docs, chunks = read_tables(gen)
    (gen / "documents.json").write_text(
        json.dumps({k: asdict(v) for k, v in docs.items()}), encoding="utf-8"
    )
    lines = [json.dumps(asdict(c), ensure_ascii=False) for c in chunks]
    for name in (
        "tables.json",
        "papers.json",
        "papers.jsonl",
        *[p.name for p in gen.glob("*.npy")],  # the chunk tables and the sentence table
        "sentence_docs.json",
    ):
        (gen / name).unlink()
    (gen / "chunks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest.pop("sentence_count", None)  # format 2 had no sentence table
    (gen / "manifest.json").write_text(json.dumps({**manifest, "format_version": 2}))


def test_format_2_generations_still_load_and_answer_alike(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    fresh, _ = Ingestor(settings, HashEmbedder()).run()
    assert fresh.path is not None
    new = load_snapshot(settings.paths.index_dir)
    assert isinstance(new.chunks, ChunkTable) and list(new.chunks) == list(fresh.chunks)
    copy = tmp_path / "old"
    shutil.copytree(settings.paths.index_dir, copy)
    _as_format_2(copy / fresh.path.name)
    old = load_snapshot(copy)
    assert isinstance(old.chunks, list) and old.chunks == list(new.chunks)
    assert {k: asdict(v) for k, v in old.documents.items()} == {
        k: asdict(v) for k, v in new.documents.items()
    }
    assert set(load_records(copy)) == set(new.documents)
    old_settings = settings.with_updates(paths={"index_dir": copy})
    Ingestor(old_settings, HashEmbedder()).run()  # nothing changed: the old format is rewritten
    assert isinstance(load_snapshot(copy).chunks, ChunkTable)
    assert list(load_snapshot(copy).chunks) == list(new.chunks)


def test_answers_from_disk_match_answers_from_memory(tmp_path: Path, corpus_copy: Path) -> None:
    """The same questions answered over the ingested snapshot (lists in memory) and over the
    generation loaded back (tables on disk): identical answers, passages and citations."""
    settings = make_settings(tmp_path, corpus_copy)
    fresh, _ = Ingestor(settings, HashEmbedder()).run()
    in_memory = Assistant(settings, fresh, HashEmbedder())
    on_disk = Assistant.load(settings, embedder=HashEmbedder(), build=False)
    assert isinstance(on_disk.snapshot.chunks, ChunkTable)
    gold = Path(__file__).resolve().parents[2] / "eval" / "gold_qa.jsonl"
    questions = [json.loads(line)["question"] for line in gold.read_text().splitlines() if line]
    assert len(questions) >= 10
    for q in questions[:40]:
        got, want = on_disk.ask(q).model_dump(), in_memory.ask(q).model_dump()
        got.pop("timings"), want.pop("timings")
        assert got == want, q


def test_listing_authors_reads_no_paper_text(tmp_path: Path, corpus_copy: Path) -> None:
    """Every question lists every paper's authors: from the stored title blocks, the same
    names as detection over the full texts, without decoding a single paper's text."""
    settings = make_settings(tmp_path, corpus_copy)
    fresh, _ = Ingestor(settings, HashEmbedder()).run()
    on_disk = Assistant.load(settings, embedder=HashEmbedder(), build=False)
    texts = next(iter(on_disk.snapshot.documents.values()))._texts  # type: ignore[attr-defined]
    authors = on_disk._state.retriever.authors()
    assert texts.fields.cache_info().misses == 0
    assert authors == Assistant(settings, fresh, HashEmbedder())._state.retriever.authors()
    assert sum(1 for names in authors.values() if names) >= 3  # the corpus papers name authors


@pytest.mark.parametrize(
    "text",
    [
        "A Study of Rail\n\nAnn Lee, Bo Chen\n\nSichuan University\n\n" + "Body text. " * 500,
        "\n\n".join(f"Line {i} Ann Lee" for i in range(12)) + "\n\n" + "x " * 3000,
        "Title Here\n\nAnn Lee and Bo Chen\n\n" + "y" * 900 + "\n\nZed Wu\n\nMore",
        "",
    ],
    ids=["title-block", "many-paragraphs", "long-paragraph", "empty"],
)
def test_stored_title_block_gives_the_authors_of_the_full_text(text: str) -> None:
    from types import SimpleNamespace

    from assistant.corpus.front_matter import FrontMatterCache, authors_of, detect, title_block

    for sections in ([], [["Intro", len(text) // 2, len(text)]]):
        head = title_block(text, sections)
        assert len(head) <= 4000 and text.startswith(head)
        doc = SimpleNamespace(clean_text=text, sections=sections, title_block=head)
        want = authors_of(detect(text, sections))
        assert FrontMatterCache({"d": doc}).authors("d") == want  # type: ignore[dict-item]


def test_front_matter_found_at_ingest_is_served_without_scanning_the_text(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each paper's front-matter offsets are stored with it: serving gives the fields detection
    over the full text gives, without running it; offsets from other rules are not trusted."""
    from assistant.corpus import front_matter

    settings = make_settings(tmp_path, corpus_copy)
    fresh, _ = Ingestor(settings, HashEmbedder()).run()
    want = {d: front_matter.FrontMatterCache(fresh.documents).fields(d) for d in fresh.documents}
    assert sum(1 for found in want.values() if found) >= 3
    stored = load_snapshot(settings.paths.index_dir)

    def scan(*_: object) -> list[object]:
        raise AssertionError("front matter detected again at serving time")

    monkeypatch.setattr(front_matter, "detect", scan)
    served = front_matter.FrontMatterCache(stored.documents)
    assert {d: served.fields(d) for d in stored.documents} == want
    monkeypatch.undo()

    papers = stored.path / "papers.json"  # type: ignore[operator]
    light = json.loads(papers.read_text(encoding="utf-8"))
    for values in light.values():
        values["front_matter"]["rules"] = "older rules"
    papers.write_text(json.dumps(light), encoding="utf-8")
    (papers.parent / "checksums.json").unlink()  # as an older version wrote it, unchecked
    stale = load_snapshot(settings.paths.index_dir)
    assert all(getattr(d, "front_offsets", 0) is None for d in stale.documents.values())
    again = front_matter.FrontMatterCache(stale.documents)
    assert {d: again.fields(d) for d in stale.documents} == want  # detected again
