"""Index persistence: manifest, atomic writes, incremental re-index, staleness, bad files."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.embeddings import HashEmbedder
from assistant.errors import IndexIncompatibleError, IndexMissingError, PaperNotFoundError
from assistant.ingest import Ingestor, remove_papers
from assistant.papers import index_status
from assistant.store import FORMAT_VERSION, load_snapshot
from tests.conftest import REPO, make_settings
from tests.pdfs import encrypted_pdf, text_pdf

pytestmark = pytest.mark.unit


def _ingest(settings, embedder, paths=None, **kw):  # type: ignore[no-untyped-def]
    return Ingestor(settings, embedder).run(paths, **kw)


def test_save_load_round_trip_with_manifest(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    snap, report = _ingest(settings, HashEmbedder())
    loaded = load_snapshot(settings.paths.index_dir)
    assert len(loaded.chunks) == len(snap.chunks) == report.chunks == loaded.store.size
    m = loaded.manifest
    assert m is not None
    assert m.embedding.model_dump() == {"model": "hash-64", "dimension": 64, "max_seq_length": 256}
    assert m.fingerprint == settings.chunking.fingerprint()
    assert set(m.papers) == {p.name for p in corpus_copy.glob("*.txt")}
    assert {p.source for p in m.papers.values()} == {"corpus"}
    assert m.chunk_count == report.chunks and m.format_version == FORMAT_VERSION
    # metadata is inspectable JSON, never pickle
    gen = loaded.path
    assert gen is not None
    json.loads((gen / "papers.json").read_text())
    json.loads((gen / "chunks.jsonl").read_text().splitlines()[0])
    assert not list(gen.glob("*.pkl")) and not list(gen.glob("*.pickle"))


def test_missing_index_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="assistant ingest"):
        load_snapshot(tmp_path / "none")


def test_only_changed_documents_are_re_embedded(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    embedder = HashEmbedder()
    first, _ = _ingest(settings, embedder)
    calls = embedder.calls
    target = corpus_copy / "002_b656026ce0905ff7.txt"
    target.write_text(target.read_text() + "\n\nAn added closing paragraph about Chengdu.\n")
    snap, report = _ingest(settings, embedder)
    changed = [c for c in snap.chunks if c.doc_id == target.name]
    assert report.updated == [target.name]
    assert len(changed) == report.embedded
    # sentence vectors: only the changed paper's texts that no kept paper holds are embedded
    assert snap.sentences is not None
    texts = {
        d: {snap.documents[d].clean_text[a:b] for a, b, _ in snap.sentences.doc_spans(d).tolist()}
        for d in snap.sentences.doc_ids
    }
    kept = set().union(*(t for d, t in texts.items() if d != target.name))
    # ...and only the changed paper's texts that no kept paper holds are embedded
    assert report.embedded_sentences == len(texts[target.name] - kept) > 0
    rows = snap.sentences.doc_spans(target.name)[:, 2]
    assert np.linalg.norm(snap.sentences.vectors[rows], axis=1).min() > 0.99
    assert embedder.calls - calls == report.embedded + report.embedded_sentences
    unchanged = {c.chunk_id for c in first.chunks if c.doc_id != target.name}
    assert unchanged <= {c.chunk_id for c in snap.chunks}


def test_nothing_changed_means_nothing_embedded_or_written(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    embedder = HashEmbedder()
    first, _ = _ingest(settings, embedder)
    calls = embedder.calls
    again, report = _ingest(settings, embedder)
    assert embedder.calls == calls and report.embedded == 0
    assert again.path == first.path


def test_removed_file_is_dropped_on_sync(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    _ingest(settings, HashEmbedder())
    (corpus_copy / "003_8f09d066e0b864c5.txt").unlink()
    snap, report = _ingest(settings, HashEmbedder())
    assert report.removed == ["003_8f09d066e0b864c5.txt"]
    assert all(c.doc_id != "003_8f09d066e0b864c5.txt" for c in snap.chunks)


def test_bad_files_are_reported_and_the_rest_still_indexes(
    tmp_path: Path, corpus_copy: Path
) -> None:
    (corpus_copy / "empty.txt").write_bytes(b"")
    (corpus_copy / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" * 40)
    (corpus_copy / "locked.pdf").write_bytes(encrypted_pdf())
    (corpus_copy / "good.pdf").write_bytes(text_pdf("The Chengdu Panda Corridor opened in 2031."))
    settings = make_settings(tmp_path, corpus_copy)
    snap, report = _ingest(settings, HashEmbedder())
    reasons = {Path(p).name: r for p, r in report.errors.items()}
    assert set(reasons) == {"empty.txt", "binary.txt", "locked.pdf"}
    assert "empty" in reasons["empty.txt"] and "encrypted" in reasons["locked.pdf"]
    assert "good.pdf" in report.added
    assert any("Panda Corridor" in c.text for c in snap.chunks)


def test_duplicate_upload_is_recognised(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    embedder = HashEmbedder()
    _ingest(settings, embedder)
    copy = tmp_path / "same-paper.txt"
    copy.write_bytes((corpus_copy / "003_8f09d066e0b864c5.txt").read_bytes())
    _, report = _ingest(settings, embedder, [copy])
    assert report.duplicates == {str(copy): "003_8f09d066e0b864c5.txt"}
    assert report.added == []


def test_stale_index_is_detected_with_the_fix(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    embedder = HashEmbedder()
    snap, _ = _ingest(settings, embedder)
    assert not index_status(snap, settings, embedder.name).stale
    (corpus_copy / "new-paper.md").write_text("# New\n\nA new paper on Chongqing logistics hubs.")
    status = index_status(snap, settings, embedder.name)
    assert (
        status.stale and "new-paper.md" in status.message and "assistant ingest" in status.message
    )
    other = settings.with_updates(chunking={"max_tokens": 100})
    assert "chunking settings changed" in index_status(snap, other, embedder.name).message
    assert "--rebuild" in index_status(snap, settings, "other-model").message


def test_failed_write_leaves_the_previous_index_live(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    before, _ = _ingest(settings, HashEmbedder())
    (corpus_copy / "extra.txt").write_text("An extra paper about Sichuan rail freight. " * 20)

    def boom(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("assistant.store.FaissVectorStore.save", boom)
    with pytest.raises(OSError):
        _ingest(settings, HashEmbedder())
    after = load_snapshot(settings.paths.index_dir)
    assert after.path == before.path and len(after.chunks) == len(before.chunks)
    assert not list(settings.paths.index_dir.glob(".tmp-gen-*"))


_SLOW_INGEST = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from assistant.embeddings import HashEmbedder
    from assistant.ingest import Ingestor
    from tests.conftest import make_settings

    class Slow(HashEmbedder):
        def embed(self, texts):
            print("embedding", flush=True)
            time.sleep(60)
            return super().embed(texts)

    root, corpus = Path(sys.argv[1]), Path(sys.argv[2])
    Ingestor(make_settings(root, corpus), Slow()).run(rebuild=True)
    """
)


def test_killed_mid_ingest_the_old_index_still_loads(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    before, _ = _ingest(settings, HashEmbedder())
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_INGEST, str(tmp_path), str(corpus_copy)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    seen = False
    while not seen and time.monotonic() < deadline and proc.poll() is None:
        seen = "embedding" in proc.stdout.readline()
    assert seen, "the ingest subprocess never reached the embedding stage"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = load_snapshot(settings.paths.index_dir)
    assert after.path == before.path
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]


# -- papers as records, one writer, recovery (issue 13) -----------------------------------


def _notes(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a" / "notes.txt", tmp_path / "b" / "notes.txt"
    a.parent.mkdir()
    b.parent.mkdir()
    a.write_text("Notes on Deyang\n\nDeyang machinery plants exported turbines in 2017.\n")
    b.write_text("Notes on Zigong\n\nZigong lantern makers toured Europe in 2016 widely.\n")
    return a, b


def test_same_named_papers_in_two_folders_are_two_papers(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    a, b = _notes(tmp_path)
    snap, report = _ingest(settings, HashEmbedder(), [tmp_path / "a", tmp_path / "b"])
    assert len(report.added) == 2 and report.updated == []
    ids = [d for d in snap.documents if d.startswith("notes-")]
    assert len(ids) == 2 and {snap.documents[i].path for i in ids} == {str(a), str(b)}
    assert {snap.documents[i].source for i in ids} == {"path"}


def test_plain_ingest_never_removes_papers_given_by_path(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    a, _ = _notes(tmp_path)
    _ingest(settings, HashEmbedder())
    _ingest(settings, HashEmbedder(), [a])
    a.unlink()  # even when its file is gone: the text is in the index
    snap, report = _ingest(settings, HashEmbedder())
    assert report.removed == [] and any(d.path == str(a) for d in snap.documents.values())
    status = index_status(snap, settings, HashEmbedder().name)
    assert not status.stale  # a missing file is reported per paper, not as a stale index


def test_remove_by_path_or_id_and_unknown_names_say_how_to_list(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    a, b = _notes(tmp_path)
    _ingest(settings, HashEmbedder(), [a, b])
    _, report = remove_papers(settings, HashEmbedder(), [str(a)])
    assert len(report.removed) == 1
    left = load_snapshot(settings.paths.index_dir).documents
    assert not any(d.path == str(a) for d in left.values())
    assert any(d.path == str(b) for d in left.values())
    with pytest.raises(PaperNotFoundError, match="index-info"):
        remove_papers(settings, HashEmbedder(), ["nope.txt"])


def test_concurrent_writers_both_keep_their_papers(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    a, b = _notes(tmp_path)
    _ingest(settings, HashEmbedder())
    said: list[str] = []

    class Slow(HashEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            time.sleep(0.5)  # holds the lock long enough for the other writer to wait
            return super().embed(texts)

    def add(path: Path) -> None:
        Ingestor(settings, Slow(), notify=said.append).run([path])

    threads = [threading.Thread(target=add, args=(p,)) for p in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    docs = load_snapshot(settings.paths.index_dir).documents
    assert {str(a), str(b)} <= {d.path for d in docs.values()}
    assert any("waiting for another ingest" in s for s in said)


def test_lost_current_or_damaged_generation_loads_the_newest_complete_one(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    a, _ = _notes(tmp_path)
    _ingest(settings, HashEmbedder())
    full, _ = _ingest(settings, HashEmbedder(), [a])
    index = settings.paths.index_dir
    (index / "CURRENT").unlink()
    snap = load_snapshot(index)
    assert snap.path == full.path and "CURRENT is missing" in (snap.notice or "")
    _ingest(settings, HashEmbedder())  # a writer makes it live again
    assert (index / "CURRENT").read_text().strip() == full.path.name  # type: ignore[union-attr]

    (full.path / "vectors.faiss").write_bytes(b"garbage")  # type: ignore[operator]
    older = load_snapshot(index)
    assert older.path != full.path and "unreadable" in (older.notice or "")
    restored, _ = _ingest(settings, HashEmbedder())
    assert set(restored.documents) == set(full.documents)  # the path paper is kept


def test_pruning_keeps_three_generations_including_the_live_one(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    _ingest(settings, HashEmbedder())
    for n in range(4):
        paper = tmp_path / f"g{n}.txt"
        paper.write_text(f"Generation {n}\n\nThe Chengdu express ran {n + 10} trains weekly.\n")
        last, _ = _ingest(settings, HashEmbedder(), [paper])
    gens = sorted(settings.paths.index_dir.glob("gen-*"))
    assert len(gens) == 3 and gens[-1] == last.path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(embedding=None), "invalid at 'embedding'"),
        (lambda m: m["embedding"].update(dimension=32), "64-d vectors but its manifest says 32-d"),
        (lambda m: m.update(format_version=1), "format 1"),
    ],
    ids=["null-embedding", "dimension", "old-format"],
)
def test_bad_manifest_is_one_line_with_the_fix(
    tmp_path: Path, corpus_copy: Path, edit: Any, message: str
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    snap, _ = _ingest(settings, HashEmbedder())
    path = snap.path / "manifest.json"  # type: ignore[operator]
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(IndexIncompatibleError, match="assistant ingest --rebuild") as e:
        load_snapshot(settings.paths.index_dir)
    assert message in str(e.value) and "\n" not in str(e.value)
    rebuilt, _ = _ingest(settings, HashEmbedder(), rebuild=True)
    assert set(rebuilt.documents) == set(snap.documents)


def test_index_files_are_readable_by_group_and_others(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    _ingest(settings, HashEmbedder())
    for path in settings.paths.index_dir.rglob("*"):
        want = 0o755 if path.is_dir() else 0o644
        assert stat.S_IMODE(path.stat().st_mode) & want == want, path


def test_terminal_output_strips_escapes_and_markup() -> None:
    from assistant.cli_shell import safe as _safe

    shown = _safe("Title [/x] [/INST] \x1b[31mred\x1b[0m \x1b]0;pwned\x07end")
    assert "\x1b" not in shown and "\x07" not in shown and "pwned" not in shown
    assert shown == "Title \\[/x] \\[/INST] red end"


def test_rebuild_reuses_unchanged_papers_work(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild keeps each unchanged paper's clean text and chunks (same bytes, same pipeline)
    and gives the same index; a changed paper, or other pipeline code, is worked out anew."""
    import assistant.ingest.pipeline as pipeline
    import assistant.ingest.records as records

    settings = make_settings(tmp_path, corpus_copy)
    first, _ = _ingest(settings, HashEmbedder())
    calls: list[str] = []
    real_clean = records.clean_text
    monkeypatch.setattr(records, "clean_text", lambda t: calls.append(t) or real_clean(t))
    name = min(d.doc_id for d in first.indexed_documents if d.version_group is None)
    changed = corpus_copy / name
    text = changed.read_text(encoding="utf-8")
    middle = text.index("\n\n", len(text) // 3)
    changed.write_text(text[:middle] + "\n\nZebra logistics grew fast.\n\n" + text[middle:])
    rebuilt, report = _ingest(settings, HashEmbedder(), rebuild=True)
    assert len(calls) == 1  # only the changed paper was cleaned again
    same = [c for c in rebuilt.chunks if c.doc_id != changed.name]
    assert same == [c for c in first.chunks if c.doc_id != changed.name]
    assert any("Zebra logistics grew fast." in c.text for c in rebuilt.chunks)
    kept = {k: v for k, v in rebuilt.documents.items() if k != changed.name}
    assert all(kept[k].clean_text == first.documents[k].clean_text for k in kept)

    calls.clear()
    records.pipeline_fingerprint.cache_clear()
    monkeypatch.setattr(pipeline, "pipeline_fingerprint", lambda: "other code")
    _ingest(settings, HashEmbedder(), rebuild=True)
    assert len(calls) == len(rebuilt.indexed_documents) + len(report.aliases)
