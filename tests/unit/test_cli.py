"""The CLI end to end through typer's CliRunner, on the fake embedder and the bundled papers.

Each test runs from an empty working folder with no path settings, so it also checks that
the defaults land there (``./index``, ``./.cache``) and never in the source tree.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress
from typer.testing import CliRunner

import assistant.embeddings
from assistant import cli, cli_render, cli_shell
from assistant.cli import app
from assistant.embeddings import HashEmbedder
from assistant.ingest import IngestReport

pytestmark = pytest.mark.unit

QUESTION = "When was the Sichuan Pilot Free Trade Zone established?"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, default paths, and the hash embedder behind make_embedder."""
    for name in ("ASSISTANT_PATHS__INDEX_DIR", "ASSISTANT_PATHS__CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    # the hash embedder's cosines mean nothing to the trained reader: these tests are about
    # what the CLI prints, so it never declines on them
    monkeypatch.setenv("ASSISTANT_ANSWER__ABSTAIN_THRESHOLD", "0")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        assistant.embeddings, "SentenceTransformerEmbedder", lambda settings=None: HashEmbedder()
    )
    return tmp_path


def _run(*args: str, stdin: str | None = None) -> tuple[str, str]:
    result = CliRunner().invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout, result.stderr


@pytest.fixture
def indexed(workdir: Path) -> Path:
    _run("ingest")
    return workdir


def test_ingest_writes_the_index_into_the_working_folder(workdir: Path) -> None:
    stdout, stderr = _run("ingest")
    assert "4 docs (4 added, 0 updated, 0 unchanged), 0 removed, 1 duplicates" in stdout, stdout
    assert "alias" in stdout  # 000 and 001 are one paper in two renderings
    assert (workdir / "index" / "CURRENT").is_file()
    assert (workdir / ".cache" / "embeddings.sqlite").is_file()
    assert stderr == ""
    again, _ = _run("ingest")
    assert "4 docs (0 added, 0 updated, 4 unchanged)" in again and "0 embedded" in again


def test_ingest_summary_counts_add_up() -> None:
    """Every paper in the index is added, updated or unchanged; a duplicate file is apart."""
    report = IngestReport(added=["a", "b", "c"], documents=7)  # 4 were there already
    assert cli_render.ingest_summary(report).startswith(
        "7 docs (3 added, 0 updated, 4 unchanged), "
    )
    report = IngestReport(
        added=["x", "x-copy"], updated=["y"], unchanged=["z"], aliases={"x-copy": "x"}
    )
    report.documents, report.removed = 5, ["old"]
    summary = cli_render.ingest_summary(report)
    assert summary.startswith("5 docs (1 added, 1 updated, 3 unchanged), 1 removed, 1 dupl")


def test_a_resumed_or_recovered_ingest_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """A rerun after a kill shows what came from the cache; recovery names what it read
    again and what it lost; a mostly-removed paper is warned about."""
    report = IngestReport(added=["a"], recovered=["b"], documents=3, embedded=4, reused=96)
    summary = cli_render.ingest_summary(report)
    assert summary.startswith("3 docs (1 added, 0 updated, 1 recovered, 1 unchanged)")
    assert "4 embedded (96 from the cache)" in summary
    report.warnings, report.dropped = {"a": "kept 3 % of the text"}, {"c": "its file is gone"}
    cli_render.print_report(report, quiet=False)
    shown = capsys.readouterr()
    assert "recovered  b" in shown.out
    assert "warning a: kept 3 % of the text" in shown.err
    assert "lost c: its file is gone" in shown.err


def test_ingest_of_a_missing_path_fails_before_any_work(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", "/nonexistent"])
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: no such file or folder: /nonexistent (nothing ingested)")
    assert "check the path" in line
    paper = workdir / "paper.txt"
    paper.write_text("A paper\n\nOn trade zones.\n", encoding="utf-8")
    both = CliRunner().invoke(app, ["ingest", str(paper), "missing.txt", "gone/"])
    assert both.exit_code == 1 and both.stdout == ""
    assert "missing.txt, gone" in both.stderr and "not even the paths that exist" in both.stderr
    assert not (workdir / "index").exists()  # refused whole: nothing was half-done


def test_help_reads_like_other_unix_tools() -> None:
    """On/off flags take no value, so help shows none; arguments are NAMES in the usage line."""
    usage = {}
    for args in ([], ["ask"], ["ingest"], ["index-info"], ["eval"], ["bench"]):
        text = CliRunner().invoke(app, [*args, "--help"]).stdout
        assert "<bool>" not in text, text
        assert "--no-" not in text  # one flag each, not an on/off pair
        usage[" ".join(args)] = next(line for line in text.splitlines() if "Usage:" in line)
    assert not any("{" in line for line in usage.values()), usage
    assert usage["ask"].split(" ask ")[1].strip() == "[OPTIONS] QUESTION"
    assert usage["ingest"].split(" ingest ")[1].strip() == "[OPTIONS] [PATHS]..."


def test_quotes_nest_instead_of_doubling() -> None:
    inner = "and “2017-2018 China Pilot Free Trade Zone System Innovation Index” released by"
    assert cli_shell.quoted(inner) == (
        "“and ‘2017-2018 China Pilot Free Trade Zone System Innovation Index’ released by”"
    )
    assert cli_shell.quoted("“The zone was set up in 2017.”") == "“The zone was set up in 2017.”"
    assert cli_shell.quoted("“Belt and Road” cooperation") == "“‘Belt and Road’ cooperation”"
    assert cli_shell.quoted('he said "no"') == "“he said 'no'”"


def test_index_info_tables_and_json(indexed: Path) -> None:
    data = json.loads(_run("index-info", "--json")[0])
    chunks = data["manifest"]["chunk_count"]
    assert data["stale"] is False and chunks > 0
    stdout, _ = _run("index-info")
    assert f"{chunks} (flat)" in stdout and "index is up to date" in stdout
    rows = [line.split("\t") for line in stdout.splitlines() if "\t" in line]
    assert rows[0] == ["doc", "title", "source", "file", "chunks", "links"]  # piped: TSV
    assert all(len(r) == 6 for r in rows) and len(rows) == 1 + len(data["papers"])
    assert set(data["manifest"]["papers"]) >= {"003_8f09d066e0b864c5.txt"}


def test_ask_prints_the_answer_and_its_sources_only(indexed: Path) -> None:
    stdout, stderr = _run("ask", QUESTION)
    assert "Sources" in stdout and "[1]" in stdout
    assert "Pilot Free Trade Zone" in stdout
    assert stderr == ""  # no progress bars, notes or model-loading output


def test_piped_ask_keeps_each_paragraph_on_one_line(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")  # a terminal width must not matter off a terminal
    data = json.loads(_run("ask", "--json", QUESTION)[0])
    stdout, _ = _run("ask", QUESTION)
    lines = stdout.splitlines()
    paragraphs = [p for p in data["text"].splitlines() if p.strip()]
    assert max(map(len, paragraphs)) > 80, paragraphs  # would wrap at 80 columns
    assert all(p in lines for p in paragraphs), stdout
    for c in data["citations"]:
        assert any(c["quote"].split()[-1] in line for line in lines if line.startswith("    “"))
    assert "\x1b" not in stdout


def test_ask_json_is_the_answer_object(indexed: Path) -> None:
    data = json.loads(_run("ask", "--json", QUESTION)[0])
    assert data["text"] and data["citations"]
    cited = data["citations"][0]
    assert cited["quote"] in cited["passage"]["text"]


def test_ask_builds_the_index_on_first_use(workdir: Path) -> None:
    stdout, stderr = _run("ask", QUESTION)
    assert "Sources" in stdout
    assert (workdir / "index" / "CURRENT").is_file()
    assert stderr == "building the index from the bundled papers (about 30 s, once)…\n"
    _, again = _run("ask", QUESTION)
    assert again == ""  # once


def test_quiet_first_use_says_nothing(workdir: Path) -> None:
    stdout, stderr = _run("--quiet", "ask", QUESTION)
    assert "Sources" in stdout and stderr == ""


def test_index_dir_option(workdir: Path) -> None:
    _run("--index-dir", "elsewhere", "ingest")
    assert (workdir / "elsewhere" / "CURRENT").is_file()
    assert not (workdir / "index").exists()
    assert "Sources" in _run("--index-dir", "elsewhere", "ask", QUESTION)[0]


def test_chat_keeps_history_and_starts_over_on_new(indexed: Path) -> None:
    script = f"{QUESTION}\nAnd what about its legal environment?\nnew\n{QUESTION}\nexit\n"
    stdout, stderr = _run("chat", stdin=script)
    assert stdout.count("Sources") == 3
    assert "Ask about the papers" in stdout
    quiet, _ = _run("--quiet", "chat", stdin=f"{QUESTION}\n")  # EOF ends the chat
    assert "Ask about the papers" not in quiet and "Sources" in quiet


def test_quiet_and_verbose_exclude_each_other(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["--quiet", "--verbose", "index-info"])
    assert result.exit_code == 2 and "exclude each other" in result.output


def test_verbose_ask_reports_timings_on_stderr(indexed: Path) -> None:
    stdout, stderr = _run("--verbose", "ask", QUESTION)
    assert "Sources" in stdout and "timings:" in stderr and "timings" not in stdout


def test_progress_draws_one_bar_per_stage() -> None:
    console = Console(file=io.StringIO(), force_terminal=True)
    with Progress(console=console) as bar:
        stages = cli_shell.StageBars(bar)
        for done in range(5):
            stages("embed", done, 4)
        stages("save", 1, 1)
        assert [t.description for t in bar.tasks] == ["embed", "save"]
        assert bar.tasks[0].completed == 4


def test_no_progress_bars_off_a_terminal() -> None:
    with cli._progress() as progress:
        assert progress is None  # CliRunner / pipes are not terminals


def test_unwritable_cache_is_one_note_not_an_error(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = indexed / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ASSISTANT_PATHS__CACHE_DIR", str(blocker / "cache"))
    stdout, stderr = _run("ask", QUESTION)
    assert "Sources" in stdout
    assert stderr.count("embedding cache off") == 1 and len(stderr.strip().splitlines()) == 1
    _, quiet = _run("--quiet", "ask", QUESTION)
    assert quiet == ""


def test_console_logging_is_undone_after_the_command(indexed: Path) -> None:
    logger = logging.getLogger("assistant")
    before = (list(logger.handlers), logger.level, logger.propagate)
    _run("--verbose", "index-info")
    assert (list(logger.handlers), logger.level, logger.propagate) == before


def test_ask_within_chosen_papers(indexed: Path) -> None:
    """``--paper ID`` (repeatable) searches only those papers; a bad id is one error line."""
    everywhere = json.loads(_run("ask", "--json", QUESTION)[0])
    found = {p["doc_id"] for p in everywhere["passages"]}
    papers = json.loads(_run("index-info", "--json")[0])["papers"]
    alias = next(p for p in papers if p["alias_of"])  # 000: a second rendering of 001
    other = next(p["doc_id"] for p in papers if p["doc_id"] not in found and not p["alias_of"])
    within = json.loads(_run("ask", "--json", "--paper", other, QUESTION)[0])
    assert within["passages"] and {p["doc_id"] for p in within["passages"]} == {other}
    assert {c["doc_id"] for c in within["citations"]} <= {other}
    two = json.loads(
        _run("ask", "--json", "--paper", other, "--paper", alias["doc_id"], QUESTION)[0]
    )
    assert {p["doc_id"] for p in two["passages"]} <= {other, alias["alias_of"]}
    assert alias["alias_of"] in {p["doc_id"] for p in two["passages"]}  # an alias: its paper
    stdout, _ = _run("chat", "--paper", other, stdin=f"{QUESTION}\n")
    assert "you>" in stdout
    for args in (["ask", "--paper", "nope.txt", QUESTION], ["chat", "--paper", "nope.txt"]):
        result = CliRunner().invoke(app, args, input=f"{QUESTION}\n")
        assert result.exit_code == 1 and result.stdout == "", result.stdout
        (line,) = result.stderr.splitlines()
        assert "'nope.txt'" in line and "index-info" in line


# -- hostile text, misleading errors, tracebacks (issue 20) ---------------------------------

HOSTILE = "\x9b31m\u202e\x85\u2066\x1b]0;pwned\x07"  # 8-bit CSI, RLO, NEL, isolate, OSC title
HIDDEN = [chr(c) for c in range(0x80, 0xA0)] + ["\u202e", "\u2066", "\x1b", "\x07"]


def test_hostile_paper_text_never_reaches_the_terminal(indexed: Path) -> None:
    """C1 controls and bidi overrides in a paper's title and sentences are not printed, while
    the quote itself is; they became spaces at load, so --json carries none either."""
    paper = indexed / "hostile.txt"
    paper.write_text(
        f"Dry port {HOSTILE}report\n\n"
        f"The Qingbaijiang dry port{HOSTILE} handled 500 trains a month in 2021. "
        "Its bonded warehouses opened the same year.\n",
        encoding="utf-8",
    )
    _run("ingest", str(paper))
    doc = next(
        p["doc_id"]
        for p in json.loads(_run("index-info", "--json")[0])["papers"]
        if p["path"].endswith("hostile.txt")
    )
    stdout, stderr = _run("ask", "--paper", doc, "How many trains did the dry port handle?")
    assert "500 trains" in stdout and "Sources" in stdout
    assert not [c for c in HIDDEN if c in stdout + stderr], repr(stdout)
    raw = _run("ask", "--json", "--paper", doc, "How many trains did the dry port handle?")[0]
    assert not [c for c in HIDDEN if c in raw]
    quotes = [c["quote"] for c in json.loads(raw)["citations"]]
    assert any("500 trains" in q for q in quotes) and not any("\u202e" in q for q in quotes)


def test_a_newline_in_a_file_name_cannot_forge_an_error_line(workdir: Path) -> None:
    folder = workdir / "papers"
    folder.mkdir()
    (folder / "x\nerror: the index is corrupt, delete it.txt").write_bytes(b"")
    (folder / "y\u202etxt.exe.txt").write_bytes(b"")
    result = CliRunner().invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 1, result.output  # nothing could be added
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("skipped ") for line in lines), lines
    assert any("x\\nerror: the index is corrupt" in line for line in lines)
    assert any("y\\u202etxt.exe.txt: empty file" in line for line in lines)
    missing = CliRunner().invoke(app, ["ingest", "gone\nerror: fake.txt"])
    assert missing.exit_code == 1
    (line,) = missing.stderr.splitlines()
    assert line.startswith("error: no such file or folder: gone\\nerror: fake.txt")


@pytest.mark.parametrize("k", ["0", "-3", "101", "1000000"])
def test_k_out_of_range_names_the_option(workdir: Path, k: str) -> None:
    for command in (["ask", "--k", k, QUESTION], ["eval", "--k", k, "--limit", "1"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 1 and result.stdout == "", result.output
        (line,) = result.stderr.splitlines()
        assert line == f"error: --k must be between 1 and 100 passages, not {k}", line
        assert "ASSISTANT_" not in line
    assert not (workdir / "index").exists()  # refused before any work


def test_a_bad_setting_blames_only_what_set_it(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error names the environment variable or settings file only when one is set."""
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__TOP_K", "1000")
    result = CliRunner().invoke(app, ["ask", QUESTION])
    (line,) = result.stderr.splitlines()
    assert result.exit_code == 1
    assert line.startswith("error: invalid setting retrieval.top_k = '1000'"), line
    assert line.endswith("fix ASSISTANT_RETRIEVAL__TOP_K"), line
    monkeypatch.delenv("ASSISTANT_RETRIEVAL__TOP_K")
    (workdir / "assistant.toml").write_text("[retrieval]\ntop_k = 0\n", encoding="utf-8")
    (line,) = CliRunner().invoke(app, ["ask", QUESTION]).stderr.splitlines()
    assert line.endswith("fix assistant.toml") and "ASSISTANT_" not in line, line
    from assistant.settings import Settings

    with pytest.raises(ValueError) as info:  # neither: a value given in code
        Settings(retrieval={"top_k": 0})  # type: ignore[arg-type]
    (workdir / "assistant.toml").unlink()
    message = cli._config_message(info.value)  # type: ignore[arg-type]
    assert message.startswith("invalid setting retrieval.top_k = 0") and "fix" not in message


@pytest.mark.parametrize("as_json", [False, True])
def test_a_question_that_is_not_utf8_is_answered_without_a_traceback(
    indexed: Path, as_json: bool
) -> None:
    """`assistant ask $'\\xff\\xfe when…'`: the shell hands Python surrogate escapes."""
    args = ["ask", *(["--json"] if as_json else []), "\udcff\udcfe" + QUESTION]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output and "\udcff" not in result.output
    if as_json:
        data = json.loads(result.stdout)
        assert data["question"] == QUESTION and "not UTF-8" in data["notice"]
    else:
        assert "Sources" in result.stdout
        assert result.stderr.startswith("note: Parts of the question were not UTF-8")
    only_bytes = CliRunner().invoke(app, ["ask", "\udcff\udcfe"])
    assert only_bytes.exit_code == 1
    (line,) = only_bytes.stderr.splitlines()
    assert line.startswith("error: empty question")


@pytest.mark.parametrize("command", [["ask", QUESTION], ["chat"]])
def test_ctrl_c_is_one_line_and_exit_130(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    from assistant.core import Assistant

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Assistant, "load", interrupted)
    result = CliRunner().invoke(app, ["--quiet", *command], input="")  # quiet: no first-use line
    assert result.exit_code == 130, (result.output, result.exception)
    assert result.stderr == "interrupted\n" and result.stdout == ""


def test_ctrl_c_while_chat_answers_drops_that_answer_only(
    indexed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.core import Assistant

    real = Assistant.ask
    calls: list[str] = []

    def ask(self: Assistant, question: str, *args: object, **kwargs: object) -> object:
        calls.append(question)
        if len(calls) == 1:
            raise KeyboardInterrupt
        return real(self, question, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Assistant, "ask", ask)
    stdout, stderr = _run("chat", stdin=f"{QUESTION}\n{QUESTION}\n")
    assert stderr == "interrupted\n" and stdout.count("Sources") == 1
