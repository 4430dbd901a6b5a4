"""Index persistence: manifest, atomic writes, incremental re-index, staleness, bad files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.embeddings import HashEmbedder
from assistant.errors import IndexMissingError
from assistant.indexing import Ingestor, index_status
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
    json.loads((gen / "documents.json").read_text())
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
    assert embedder.calls - calls == len(changed) == report.embedded
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
    from assistant.indexing import Ingestor
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
