"""Every data-loss and traceback trial of issue 13, replayed on the real CLI and model.

Each test names the trial it replays. "Nothing lost" is checked through ``index-info --json``,
"no traceback" by ``assert_clean`` / ``one_error_line`` on the real process output.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import faiss
import numpy as np
import pytest

from assistant.store.checksums import write_checksums
from tests.reliability.conftest import (
    BUNDLED,
    MARKUP_DIR,
    MARKUP_FILE,
    Workspace,
    assert_clean,
    one_error_line,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _paper(ws: Workspace, folder: str, name: str, text: str) -> Path:
    path = ws.root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _live(ws: Workspace) -> Path:
    return ws.index / (ws.index / "CURRENT").read_text().strip()


# -- data loss -----------------------------------------------------------------------------


def test_two_concurrent_ingests_keep_both_papers(ws: Workspace) -> None:
    """Trial: two `assistant ingest` processes on different papers; only one was kept."""
    before = ws.built_papers
    a = _paper(
        ws,
        "a",
        "luzhou.txt",
        "Luzhou port\n\nLuzhou port handled record container "
        "volumes in 2021 thanks to river-sea shipping.\n",
    )
    b = _paper(
        ws,
        "b",
        "yibin.txt",
        "Yibin battery plants\n\nYibin attracted battery "
        "makers in 2022 with cheap hydropower and rail links.\n",
    )
    procs = [ws.start("ingest", str(a)), ws.start("ingest", str(b))]
    outputs = [p.communicate(timeout=600) for p in procs]
    for proc, (stdout, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stdout + stderr
        assert "1 added" in stdout
    papers = ws.papers()
    assert before < set(papers) and len(papers) == len(before) + 2
    assert {Path(str(p["path"])).name for p in papers.values()} >= {"luzhou.txt", "yibin.txt"}


def test_plain_ingest_keeps_papers_added_by_path(ws: Workspace) -> None:
    """Trial: a plain `assistant ingest` removed every paper ingested by path ("6 removed"),
    and index-info recommended it; same-named papers in two folders were one paper."""
    _paper(
        ws,
        "a",
        "notes.txt",
        "Notes on Deyang\n\nDeyang heavy machinery plants exported turbines to Pakistan in 2017.\n",
    )
    _paper(
        ws,
        "b",
        "notes.txt",
        "Notes on Zigong\n\nZigong lantern makers toured Europe in "
        "2016 with support from the province.\n",
    )
    added = ws.cli("ingest", str(ws.root / "a"), str(ws.root / "b"))  # folders: recursive
    assert_clean(added)
    assert "2 added" in added.stdout and "updated" in added.stdout
    assert "0 updated" in added.stdout
    plain = ws.cli("ingest")
    assert_clean(plain)
    assert "0 removed" in plain.stdout
    info = ws.info()
    papers = {p["doc_id"]: p for p in info["papers"]}  # type: ignore[union-attr]
    notes = [p for p in papers.values() if Path(str(p["path"])).name == "notes.txt"]
    assert len(notes) == 2 and {p["source"] for p in notes} == {"path"}
    assert set(BUNDLED) <= set(papers)
    assert info["stale"] is False  # every paper checked, none changed

    removed = ws.cli("remove", str(ws.root / "a" / "notes.txt"))
    assert_clean(removed)
    assert "1 removed" in removed.stdout
    left = ws.papers()
    assert [
        Path(str(p["path"])).parent.name
        for p in left.values()
        if Path(str(p["path"])).name == "notes.txt"
    ] == ["b"]


def test_upload_rebases_on_papers_the_cli_added(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trial: a UI upload on a long-running app dropped papers the CLI added since it started."""
    from assistant import Assistant, Settings
    from assistant.ui_support import answer_html, highlight_html

    for key, value in ws.env().items():
        if key.startswith("ASSISTANT_"):
            monkeypatch.setenv(key, value)
    # the app's view: one Assistant loaded before the CLI adds a paper
    bot = Assistant.load(Settings())
    started_with = {p.doc_id for p in bot.info().papers}
    cli_paper = _paper(
        ws,
        "c",
        "leshan.txt",
        "Leshan polysilicon\n\nLeshan became a polysilicon centre in 2020 as solar demand rose.\n",
    )
    assert_clean(ws.cli("ingest", str(cli_paper)))
    result = bot.add_upload(
        "upload.md",
        b"# Panda corridor\n\nThe Panda corridor opened in 2031 with 47 "
        b"terminals. ![x](http://evil.example/a.png)\n",
    )
    assert result.level == "success", result.message
    papers = {p.doc_id: p for p in bot.info().papers}
    assert started_with < set(papers)
    assert any(p.path.endswith("leshan.txt") for p in papers.values())
    assert papers[str(result.doc_id)].source == "upload"
    assert {p["source"] for p in ws.papers().values()} == {"corpus", "path", "upload"}

    # Markdown in a paper: the UI's renderers show it as text (no image, no link)
    passage = bot.retrieve("When did the Panda corridor open?", k=1)[0]
    assert "![x](http://evil.example/a.png)" in passage.text
    for html in (highlight_html(passage.text, []), answer_html(passage.text)):
        assert "![x](" not in html and "](http" not in html and "<img" not in html


# -- recovery ------------------------------------------------------------------------------


def test_lost_current_falls_back_to_the_newest_generation(ws: Workspace) -> None:
    """Trial: a lost CURRENT rebuilt the index from corpus/ alone, dropping papers by path."""
    papers = ws.built_papers
    (ws.index / "CURRENT").unlink()
    info = ws.info()
    assert "CURRENT is missing" in str(info["notice"])
    assert {p["doc_id"] for p in info["papers"]} == papers  # type: ignore[union-attr]
    again = ws.cli("ingest")
    assert_clean(again)
    assert "0 removed" in again.stdout and (ws.index / "CURRENT").is_file()
    assert set(ws.papers()) == papers and ws.info()["notice"] is None


def test_corrupt_vectors_fall_back_and_ingest_restores_every_paper(ws: Workspace) -> None:
    """Trial: a corrupt vectors.faiss rebuilt from corpus/ alone, then pruned the rest."""
    papers = ws.built_papers
    vectors = _live(ws) / "vectors.faiss"
    vectors.write_bytes(vectors.read_bytes()[:500])
    info = ws.info()  # the older generation loads (it lacks the paper added by path)
    assert "unreadable" in str(info["notice"])
    asked = ws.cli("ask", "What happened to Sichuan science parks?")
    assert_clean(asked)
    assert "note:" in asked.stderr  # the reader is told which generation answered
    restored = ws.cli("ingest")
    assert_clean(restored)
    assert set(ws.papers()) == papers  # the paper by path is back, nothing dropped


# -- tracebacks ----------------------------------------------------------------------------


def test_markup_and_escape_sequences_in_titles_and_paths_print_as_text(
    ws: Workspace, built: Workspace
) -> None:
    """Trial: titles/paths with `[/x]` or `[/INST]` crashed ask, chat and index-info; ANSI
    escapes in a paper reached the terminal raw."""
    info = ws.cli("index-info")
    assert_clean(info)
    assert "[/x]" in info.stdout and "[/INST]" in info.stdout
    assert "notes [bold]" in info.stdout and MARKUP_DIR in info.stdout
    asked = ws.cli("ask", "Why did the Chengdu rail freight hub grow in 2019?")
    assert_clean(asked)
    assert "[/INST]" in asked.stdout and "![x](http://evil.example/a.png)" in asked.stdout
    assert MARKUP_FILE.removesuffix(".txt") in asked.stdout
    as_json = ws.cli("index-info", "--json")
    assert_clean(as_json)
    json.loads(as_json.stdout)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("ask", "x", "--k", "-3"), {}, "--k must be"),
        (("ask", "x"), {"ASSISTANT_RETRIEVAL__TOP_K": "abc"}, "ASSISTANT_RETRIEVAL__TOP_K"),
        (("index-info",), {"ASSISTANT_CONFIG": "bad.toml"}, "bad.toml is not valid TOML"),
        (("index-info",), {"ASSISTANT_CONFIG": "wrong.toml"}, "retrieval.top_k"),
        (("ingest",), {"ASSISTANT_PATHS__CORPUS_DIR": "badcorpus"}, "catalog.toml is invalid"),
    ],
    ids=["k-negative", "env-not-int", "toml-syntax", "toml-value", "catalog"],
)
def test_bad_settings_and_catalog_are_one_line(
    ws: Workspace, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    """Trial: `--k -3`, ASSISTANT_RETRIEVAL__TOP_K=abc, a bad assistant.toml or catalog.toml
    showed a traceback."""
    (ws.root / "bad.toml").write_text("[retrieval\ntop_k = 3\n")
    (ws.root / "wrong.toml").write_text('[retrieval]\ntop_k = "many"\n')
    (ws.root / "badcorpus").mkdir()
    (ws.root / "badcorpus" / "p1.txt").write_text(BUNDLED["p1.txt"])
    (ws.root / "badcorpus" / "catalog.toml").write_text('["p1.txt"]\ntitle = "unclosed\n')
    env = {k: str(ws.root / v) if k.startswith("ASSISTANT_PATHS") else v for k, v in env.items()}
    line = one_error_line(ws.cli(*args, **env))
    assert expected in line


def _single_generation(ws: Workspace) -> Path:
    live = _live(ws)
    for gen in ws.index.glob("gen-*"):
        if gen != live:
            for part in sorted(gen.rglob("*"), reverse=True):
                part.unlink() if part.is_file() else part.rmdir()
            gen.rmdir()
    return live


def test_null_embedding_in_the_manifest_is_one_line_and_rebuild_keeps_papers(
    ws: Workspace,
) -> None:
    """Trial: `"embedding": null` in the manifest raised a traceback."""
    papers = ws.built_papers
    manifest = _single_generation(ws) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["embedding"] = None
    manifest.write_text(json.dumps(data))
    line = one_error_line(ws.cli("ask", "Sichuan science parks"))
    assert "embedding" in line and "assistant ingest --rebuild" in line
    rebuilt = ws.cli("ingest", "--rebuild")
    assert_clean(rebuilt)
    assert set(ws.papers()) == papers


def test_vectors_of_another_dimension_are_one_line(ws: Workspace) -> None:
    """Trial: vectors of another dimension under the same model name: AssertionError."""
    gen = _single_generation(ws)
    manifest = json.loads((gen / "manifest.json").read_text())
    n = manifest["chunk_count"]
    index = faiss.IndexFlatIP(768)
    index.add(np.random.default_rng(0).standard_normal((n, 768)).astype(np.float32))
    faiss.write_index(index, str(gen / "vectors.faiss"))
    manifest["embedding"]["dimension"] = 768
    (gen / "manifest.json").write_text(json.dumps(manifest))
    write_checksums(gen)  # as a writer with a 768-d model would have left it: not damaged
    line = one_error_line(ws.cli("ask", "Sichuan science parks"))
    assert "768-d" in line and "384-d" in line and "--rebuild" in line


def test_index_is_readable_by_other_users(built: Workspace) -> None:
    """Trial: an index written by another user was unreadable (0600 files, 0700 folders)."""
    for path in [built.index, *built.index.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_dir():
            assert mode & 0o755 == 0o755, (path, oct(mode))
        else:
            assert mode & 0o644 == 0o644, (path, oct(mode))
