"""Issue 20, store side: damaged generations, recovery of every paper, writer lock waits, a
full disk. In-process on the hash embedder: each trial damages a copy of one small index.

The index has three generations: the bundled papers (gen 1), a paper added by path (gen 2),
a paper uploaded (gen 3, live). Damage goes into gen 3, as the outside tester put it there.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import HashEmbedder
from assistant.errors import IndexBusyError, IndexDamagedError, IndexWriteError
from assistant.ingest import Ingestor
from assistant.settings import Settings
from assistant.store import checksums, load_snapshot, recover, save_snapshot, verify_generation
from assistant.store.checksums import CHECKSUMS, check_files, write_checksums
from assistant.store.lock import OWNER, read_owner, writer_lock
from tests.conftest import REPO, make_settings

pytestmark = pytest.mark.unit

PAPERS = {
    "chongqing.txt": "Chongqing inland port\n\nChongqing logistics parks expanded along the "
    "Yangtze river port in 2020, with bonded zones serving exporters in the west of China.\n",
    "mianyang.txt": "Sichuan science parks\n\nSichuan opened three science and technology "
    "parks in Mianyang in 2018 to train engineers for Belt and Road projects.\n",
}
BY_PATH = "Luzhou port\n\nLuzhou port handled record container volumes in 2021 thanks to "
"river-sea shipping and new bonded warehouses.\n"
UPLOADED = "Yibin battery plants\n\nYibin attracted battery makers in 2022 with cheap "
"hydropower and rail links to the coast.\n"


class Built:
    """A copy of the three-generation index, its settings and its papers by source."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = settings_for(root)
        self.index = self.settings.paths.index_dir
        self.by_path = root / "papers" / "luzhou.txt"
        self.upload = self.settings.paths.uploads_dir / "yibin.txt"

    @property
    def live(self) -> Path:
        return self.index / (self.index / "CURRENT").read_text().strip()

    def ids(self) -> dict[str, str]:
        """Paper id by source, from the live manifest."""
        manifest = json.loads((self.live / "manifest.json").read_text())
        return {entry["source"]: doc_id for doc_id, entry in manifest["papers"].items()}

    def all_ids(self) -> set[str]:
        return set(json.loads((self.live / "manifest.json").read_text())["papers"])


def settings_for(root: Path) -> Settings:
    return make_settings(root, root / "corpus")


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("faults")
    (root / "corpus").mkdir()
    for name, text in PAPERS.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    settings = settings_for(root)
    (root / "papers").mkdir()
    (root / "papers" / "luzhou.txt").write_text(BY_PATH, encoding="utf-8")
    settings.paths.uploads_dir.mkdir(parents=True)
    (settings.paths.uploads_dir / "yibin.txt").write_text(UPLOADED, encoding="utf-8")
    Ingestor(settings, HashEmbedder()).run()
    Ingestor(settings, HashEmbedder()).run([root / "papers" / "luzhou.txt"])
    Ingestor(settings, HashEmbedder()).run([settings.paths.uploads_dir / "yibin.txt"])
    return root


@pytest.fixture
def built(master: Path, tmp_path: Path) -> Built:
    """A private copy: the same absolute layout under tmp_path (papers, uploads, index)."""
    root = tmp_path / "w"
    shutil.copytree(master, root)
    # paths in the records are absolute: point them at this copy's files
    for gen in (root / "index").glob("gen-*"):
        for name in ("manifest.json", "papers.json"):
            f = gen / name
            f.write_text(f.read_text().replace(str(master), str(root)))
        write_checksums(gen)  # the copy is as its writer would have left it
    b = Built(root)
    assert set(b.ids()) == {"corpus", "path", "upload"}
    return b


def _garble_row(path: Path, needle: str, valid_json: bool = False) -> None:
    """Change bytes of the line holding ``needle`` in place, keeping the file's size."""
    lines = path.read_bytes().split(b"\n")
    i = next(n for n, line in enumerate(lines) if needle.encode() in line)
    line = lines[i]
    if valid_json:  # a letter of the text changed: still parses
        at = line.index(b"port")
        lines[i] = line[:at] + b"p0rt" + line[at + 4 :]
    else:
        lines[i] = b"#" + line[1:]
    path.write_bytes(b"\n".join(lines))


def _loaded_older(b: Built, damaged: Path) -> str:
    snap = load_snapshot(b.index)
    assert snap.path is not None and snap.path != damaged
    assert snap.notice is not None and "\n" not in snap.notice
    return snap.notice


# -- checksums -------------------------------------------------------------------------------


def test_every_generation_file_has_a_size_and_hash(built: Built) -> None:
    record = json.loads((built.live / CHECKSUMS).read_text())
    files = {p.relative_to(built.live).as_posix() for p in built.live.rglob("*") if p.is_file()}
    assert set(record["files"]) == files - {CHECKSUMS}
    assert any(name.startswith("bm25/") for name in record["files"])
    for name, entry in record["files"].items():
        assert entry["size"] == (built.live / name).stat().st_size and len(entry["sha256"]) == 64
    assert verify_generation(built.live) and verify_generation(built.live, full=True)


def test_truncated_papers_file_falls_back_and_recovery_lists_every_paper(built: Built) -> None:
    gen, ids = built.live, built.ids()
    data = (gen / "papers.json").read_bytes()
    (gen / "papers.json").write_bytes(data[: len(data) // 2])
    assert "papers.json" in _loaded_older(built, gen)
    found = recover(built.index)
    assert found.generation == gen and set(found.papers) == built.all_ids()
    assert found.papers[ids["upload"]].path == str(built.upload)
    # the older generation's intact records keep what they hold; the upload is re-read
    assert set(found.kept) == {ids["corpus"], ids["path"]} | set(PAPERS)
    assert set(found.reread) == {ids["upload"]} and not found.lost
    assert any("papers.json" in line for line in found.damaged)


def test_missing_tables_file_keeps_every_paper_from_its_intact_paper_tables(built: Built) -> None:
    gen = built.live
    (gen / "tables.json").unlink()
    assert "tables.json is missing" in _loaded_older(built, gen)
    found = recover(built.index)
    assert set(found.kept) == built.all_ids() and not found.reread and not found.lost
    upload = found.kept[built.ids()["upload"]]
    assert "Yibin attracted battery makers" in upload.clean_text  # read whole, from gen 3


def test_garbled_chunk_row_is_found_at_load_not_at_question_time(built: Built) -> None:
    gen = built.live
    size = (gen / "chunks.jsonl").stat().st_size
    _garble_row(gen / "chunks.jsonl", "Yibin")
    assert (gen / "chunks.jsonl").stat().st_size == size
    assert "chunks.jsonl changed since it was written" in _loaded_older(built, gen)
    with pytest.raises(IndexDamagedError, match="chunks.jsonl"):
        verify_generation(gen)
    assert set(recover(built.index).kept) == built.all_ids()  # its paper tables are intact


def test_garbled_paper_row_rereads_or_salvages_and_names_what_is_lost(built: Built) -> None:
    gen, ids = built.live, built.ids()
    _garble_row(gen / "papers.jsonl", ids["upload"])  # no longer parses
    _garble_row(gen / "papers.jsonl", ids["path"], valid_json=True)  # parses, text changed
    assert "papers.jsonl" in _loaded_older(built, gen)
    found = recover(built.index)
    # the path paper's gen-2 record is intact at the same hash: kept from there
    assert found.kept[ids["path"]].clean_text.count("p0rt") == 0
    assert set(found.reread) == {ids["upload"]}  # its file is still in uploads/

    built.upload.unlink()  # now nothing holds the upload: reported, with the reason
    found = recover(built.index)
    assert set(found.lost) == {ids["upload"]} and str(built.upload) in found.lost[ids["upload"]]
    assert set(found.records) == built.all_ids() - {ids["upload"]}


def test_a_paper_row_that_still_parses_is_salvaged_when_its_file_is_gone(built: Built) -> None:
    gen, ids = built.live, built.ids()
    _garble_row(gen / "papers.jsonl", ids["path"])  # another row damaged: the table fails
    built.upload.unlink()
    found = recover(built.index)
    assert set(found.salvaged) == {ids["upload"]} and not found.lost
    assert "Yibin" in found.salvaged[ids["upload"]].clean_text
    assert set(found.records) == built.all_ids()


def test_newest_manifest_unreadable_recovers_from_the_one_before(built: Built) -> None:
    gen, upload = built.live, built.ids()["upload"]
    (gen / "manifest.json").write_text("{not json")
    found = recover(built.index)
    assert found.generation is not None and found.generation != gen
    assert any("manifest.json is unreadable" in line for line in found.damaged)
    assert upload not in found.papers and found.papers  # only gen 3 listed it


def test_garbled_vectors_are_found_at_load_and_a_full_verify_finds_any_byte(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = built.live
    vectors = gen / "vectors.faiss"
    data = bytearray(vectors.read_bytes())
    data[-3] ^= 0xFF  # a float of the last vector: FAISS still reads the file
    vectors.write_bytes(bytes(data))
    assert "vectors.faiss changed" in _loaded_older(built, gen)

    # a big file is sampled at load; a byte between samples needs the full verify
    big = tmp_path / "gen"
    big.mkdir()
    (big / "vectors.faiss").write_bytes(np.random.default_rng(0).bytes(40 * 4096))
    monkeypatch.setattr(checksums, "LOAD_BUDGET", 0)
    monkeypatch.setattr(checksums, "BLOCK", 4096)
    write_checksums(big)
    entry = json.loads((big / CHECKSUMS).read_text())["files"]["vectors.faiss"]
    assert entry["load"] == "sample" and len(entry["samples"]) == checksums.SAMPLES
    sampled = {at // 4096 for at, _ in entry["samples"]}
    between = next(n for n in range(40) if n not in sampled) * 4096 + 10
    _flip(big / "vectors.faiss", between)
    assert verify_generation(big)  # not a sampled block
    with pytest.raises(IndexDamagedError, match="vectors.faiss changed"):
        verify_generation(big, full=True)
    _flip(big / "vectors.faiss", entry["samples"][-1][0] + 5)
    with pytest.raises(IndexDamagedError, match=r"vectors.faiss changed .*at byte"):
        verify_generation(big)


def _flip(path: Path, at: int) -> None:
    with open(path, "r+b") as f:
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_load_hashes_small_files_whole_and_samples_the_rest(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load-time check stays cheap: a file over the budget is never read whole."""
    monkeypatch.setattr(checksums, "LOAD_BUDGET", 4096)
    write_checksums(built.live)
    record = json.loads((built.live / CHECKSUMS).read_text())["files"]
    whole = {k for k, v in record.items() if v["load"] == "full"}
    assert sum(record[k]["size"] for k in whole) <= 4096 and "tables.json" in whole
    assert record["vectors.faiss"]["load"] == "sample"
    read: list[str] = []
    real = checksums._digest
    monkeypatch.setattr(checksums, "_digest", lambda p: read.append(p.name) or real(p))
    assert load_snapshot(built.index).notice is None
    assert "vectors.faiss" not in read and "tables.json" in read


def test_generation_without_checksums_still_loads_and_unreadable_checksums_do_not(
    built: Built,
) -> None:
    gen = built.live
    (gen / CHECKSUMS).unlink()  # written before checksums existed
    assert check_files(gen) is None and verify_generation(gen) is False
    assert load_snapshot(built.index).path == gen
    (gen / CHECKSUMS).write_text("[")
    assert "checksums.json is unreadable" in _loaded_older(built, gen)


def test_full_verify_on_load_skips_a_generation_damaged_between_samples(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At scale the chunk rows are sampled at load: a writer asks for the full verify."""
    monkeypatch.setattr(checksums, "LOAD_BUDGET", 0)
    monkeypatch.setattr(checksums, "BLOCK", 16)
    gen = built.live
    write_checksums(gen)
    entry = json.loads((gen / CHECKSUMS).read_text())["files"]["chunks.jsonl"]
    sampled = {n for at, _ in entry["samples"] for n in range(at, at + 16)}
    text = (gen / "chunks.jsonl").read_bytes()
    at = next(n for n in range(len(text)) if n not in sampled and chr(text[n]).isalpha())
    _flip(gen / "chunks.jsonl", at)
    assert load_snapshot(built.index).path == gen  # missed by the samples
    fully = load_snapshot(built.index, full_verify=True)
    assert fully.path != gen and "chunks.jsonl changed" in (fully.notice or "")


# -- what a writer does with it (ingest calls the store) -------------------------------------


def test_rebuild_after_a_garbled_chunk_row_keeps_every_paper(built: Built) -> None:
    """Trial: a garbled row made every command fail, `ingest --rebuild` included."""
    papers = built.all_ids()
    _garble_row(built.live / "chunks.jsonl", "Yibin")
    snap, _ = Ingestor(built.settings, HashEmbedder()).run(rebuild=True)
    assert set(snap.documents) == papers
    assert load_snapshot(built.index).notice is None and verify_generation(built.live, full=True)


def test_ingest_after_garbled_vectors_keeps_every_paper(built: Built) -> None:
    """Trial: vectors garbled in place went unnoticed ("up to date", wrong passages)."""
    papers = built.all_ids()
    data = bytearray((built.live / "vectors.faiss").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (built.live / "vectors.faiss").write_bytes(bytes(data))
    snap, report = Ingestor(built.settings, HashEmbedder()).run()
    assert set(snap.documents) == papers and report.removed == []
    assert load_snapshot(built.index).notice is None


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda gen: _truncate(gen / "papers.json"), id="truncated papers.json"),
        pytest.param(lambda gen: _truncate(gen / "papers.jsonl"), id="truncated papers.jsonl"),
        pytest.param(lambda gen: (gen / "tables.json").unlink(), id="missing tables.json"),
        pytest.param(lambda gen: _garble_row(gen / "papers.jsonl", "Yibin"), id="garbled row"),
    ],
)
@pytest.mark.parametrize("rebuild", [False, True], ids=["ingest", "ingest --rebuild"])
def test_ingest_after_damaged_paper_tables_keeps_every_paper(
    built: Built, damage: Callable[[Path], None], rebuild: bool
) -> None:
    """Trial: the upload disappeared while the output said "0 removed"."""
    papers = built.all_ids()
    damage(built.live)
    snap, report = Ingestor(built.settings, HashEmbedder()).run(rebuild=rebuild)
    assert set(snap.documents) == papers and report.removed == [] and not report.dropped
    assert {d.source for d in snap.documents.values()} >= {"path", "upload"}
    assert load_snapshot(built.index).notice is None


def test_a_paper_whose_file_and_records_are_gone_is_named_as_dropped(built: Built) -> None:
    path_paper = next(
        d for d in load_snapshot(built.index).documents.values() if d.source == "path"
    )
    Path(path_paper.path).unlink()
    for gen in built.index.glob("gen-*"):
        (gen / "papers.jsonl").write_bytes(b"")
        (gen / "papers.json").write_bytes(b"{")
    snap, report = Ingestor(built.settings, HashEmbedder()).run()
    assert path_paper.doc_id not in snap.documents
    assert "is gone" in report.dropped[path_paper.doc_id]


# -- writer lock -----------------------------------------------------------------------------

_HOLD = textwrap.dedent(
    """
    import os, signal, sys, time
    from pathlib import Path
    from assistant.store.lock import writer_lock

    with writer_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        if sys.argv[2] == "stop":
            os.kill(os.getpid(), signal.SIGSTOP)
        time.sleep(120)
    """
)


def _holder(index: Path, how: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(index), how],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_held_by_a_stopped_process_times_out_naming_it(tmp_path: Path) -> None:
    index = tmp_path / "index"
    proc = _holder(index, "stop")
    try:
        deadline = time.monotonic() + 30
        while read_owner(index) is None or not read_owner(index).stopped():  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the holder never stopped"
            time.sleep(0.05)
        said: list[str] = []
        started = time.monotonic()
        with pytest.raises(IndexBusyError) as e, writer_lock(index, said.append, timeout_s=1.0):
            pass
        assert 0.9 <= time.monotonic() - started < 10
        message = str(e.value)
        assert f"pid {proc.pid}" in message and f"kill -CONT {proc.pid}" in message
        assert "ASSISTANT_STORE__LOCK_TIMEOUT_S" in message and "\n" not in message
        assert said and said[0].startswith(f"waiting for another ingest (pid {proc.pid}, started")
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_frees_the_lock_and_its_stale_note_is_taken_over(tmp_path: Path) -> None:
    """flock is released by the OS when the holder dies; what remains is its owner note."""
    index = tmp_path / "index"
    proc = _holder(index, "hold")
    proc.kill()
    proc.wait()
    stale = read_owner(index)
    assert stale is not None and stale.pid == proc.pid and stale.alive() is False
    said: list[str] = []
    started = time.monotonic()
    with writer_lock(index, said.append, timeout_s=5.0):
        assert time.monotonic() - started < 2  # no wait: the lock was free
        mine = read_owner(index)
        assert mine is not None and mine.pid == os.getpid()
    assert said == [
        f"took over the index's writer lock from an ingest ({stale.describe()}) "
        "that is no longer running"
    ]
    assert not (index / OWNER).exists()  # released: the note goes with it


def test_a_waiting_writer_names_the_holder_then_proceeds(tmp_path: Path) -> None:
    index = tmp_path / "index"
    said: list[str] = []
    inside = threading.Event()

    def hold() -> None:
        with writer_lock(index):
            inside.set()
            time.sleep(0.5)

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(10)
    with writer_lock(index, said.append, timeout_s=30):
        pass
    t.join()
    assert len(said) == 1 and f"(pid {os.getpid()}, started " in said[0]
    assert said[0].endswith("to finish… (giving up after 30 s)")
    assert socket.gethostname() not in said[0]  # this host is not named


def test_lock_timeout_is_a_setting() -> None:
    assert Settings().store.lock_timeout_s == 600
    with pytest.raises(ValueError):
        Settings(store={"lock_timeout_s": 0})


# -- disk full -------------------------------------------------------------------------------


def _full(*_: object, **__: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _short(*_: object, **__: object) -> None:
    raise OSError("605568 requested and 210912 written")  # numpy's short write: no errno


def _faiss_full(*_: object, **__: object) -> None:
    raise RuntimeError(
        "Error in faiss::write_index: 'ret == (size * 4)' failed: write error in x: "
        "4051 != 1280000 (No space left on device)"
    )


@pytest.mark.parametrize(
    ("target", "fail"),
    [
        ("assistant.store.generations.FaissVectorStore.save", _full),
        ("assistant.store.chunk_table.np.save", _short),
        ("assistant.store.faiss_store.faiss.write_index", _faiss_full),
        ("assistant.store.checksums.write_json", _full),
    ],
    ids=["enospc-vectors", "numpy-short-write", "faiss-message", "checksums"],
)
def test_disk_full_is_one_line_and_leaves_the_live_generation(
    built: Built, monkeypatch: pytest.MonkeyPatch, target: str, fail: object
) -> None:
    before = load_snapshot(built.index)
    gens = sorted(built.index.glob("gen-*"))
    monkeypatch.setattr(target, fail)
    with pytest.raises(IndexWriteError) as e:
        save_snapshot(before, built.index)
    message = str(e.value)
    assert message == (
        f"disk full while writing the index at {built.index}: free space and run the command "
        "again (nothing was changed)"
    )
    assert not list(built.index.glob(".tmp-gen-*")) and sorted(built.index.glob("gen-*")) == gens
    monkeypatch.undo()
    after = load_snapshot(built.index)
    assert after.path == before.path and after.notice is None


def test_disk_full_while_switching_current_removes_the_new_generation(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = load_snapshot(built.index)
    gens = sorted(built.index.glob("gen-*"))
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the CURRENT temp file: its data cannot be written
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".CURRENT."):
            _full()
        real_fsync(fd)

    monkeypatch.setattr("assistant.store.files.os.fsync", fsync)
    with pytest.raises(IndexWriteError, match="disk full"):
        save_snapshot(before, built.index)
    monkeypatch.undo()
    assert sorted(built.index.glob("gen-*")) == gens
    assert not list(built.index.glob(".CURRENT.*"))  # no half-written temp file left
    assert load_snapshot(built.index).path == before.path


def test_other_write_errors_are_not_called_a_full_disk(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = load_snapshot(built.index)

    def denied(*_: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr("assistant.store.generations.FaissVectorStore.save", denied)
    with pytest.raises(OSError, match="Input/output"):
        save_snapshot(before, built.index)
    assert not list(built.index.glob(".tmp-gen-*"))


def test_index_info_verify_finds_vectors_garbled_in_place(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trial: `index-info` said "up to date" over vectors garbled in place; --verify reads
    every byte and names the file in one line."""
    from typer.testing import CliRunner

    from assistant.cli import app

    paths = built.settings.paths
    for key, value in {
        "CORPUS_DIR": paths.corpus_dir,
        "INDEX_DIR": paths.index_dir,
        "CACHE_DIR": paths.cache_dir,
        "UPLOADS_DIR": paths.uploads_dir,
    }.items():
        monkeypatch.setenv(f"ASSISTANT_PATHS__{key}", str(value))
    ok = CliRunner().invoke(app, ["index-info", "--verify"])
    assert ok.exit_code == 0 and "every file matches" in ok.output, ok.output
    data = bytearray((built.live / "vectors.faiss").read_bytes())
    data[len(data) // 3] ^= 0xFF
    (built.live / "vectors.faiss").write_bytes(bytes(data))
    bad = CliRunner().invoke(app, ["index-info", "--verify"])
    assert bad.exit_code == 1 and "vectors.faiss" in bad.output and "Traceback" not in bad.output
