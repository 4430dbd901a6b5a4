"""Hostile text, tracebacks and misleading errors of issue 20, replayed on the real CLI and model.

Every trial runs ``assistant`` in a subprocess with HOME pointed at an empty folder and checks
the same four things: no traceback, the expected exit code, no character a terminal would act
on (C0/C1 controls, escape sequences, bidi marks) in what it printed, and nothing written
under HOME (onnxruntime's telemetry used to create ``~/.cache/Microsoft/`` on every run).
"""

from __future__ import annotations

import codecs
import json
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.safe_text import is_display_safe
from tests.reliability.conftest import CLI_TIMEOUT_S, Workspace, assert_clean

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# An 8-bit CSI (recolours an xterm), NEL, a right-to-left override, an isolate and an OSC
# window title: what a paper's text can carry to the terminal of whoever asks about it.
HOSTILE = "\x9b31m\x85\u202e\u2066\x1b]0;pwned\x07"
FORGED_NAME = "quay\nerror: the index is corrupt, run rm -rf index.txt"

# File name -> bytes: one paper per way a text can be stored or named.
PAPERS: dict[str, bytes] = {}


def _paper(name: str, text: str, encoding: str = "utf-8", bom: bytes = b"") -> None:
    PAPERS[name] = bom + text.encode(encoding)


_paper(
    "c1.txt",
    f"Dry port {HOSTILE}report\n\nThe Qingbaijiang dry port handled 500 trains in 2021{HOSTILE}, "
    "twice the year before. \u202eNew warehouses\u202c opened in 2022.\n",
)
_paper(
    "bidi.txt",
    "River port\n\nThe Luzhou river port \u202ehandled 300 ships\u202c in 2020, with help from "
    "the \u2067province\u2069.\n",
)
_paper(
    "utf16le-bom.txt",
    "Vanadium\n\nPanzhihua vanadium exports to Kazakhstan rose in 2018 after a new rail "
    "contract.\n",
    "utf-16-le",
    codecs.BOM_UTF16_LE,
)
_paper(
    "utf16be-bom.txt",
    "Tourism\n\nLeshan hotel bookings by Malaysian tourists doubled in 2019 after direct "
    "flights.\n",
    "utf-16-be",
    codecs.BOM_UTF16_BE,
)
_paper(
    "utf16le-nobom.txt",
    "Tea\n\nYa'an dark tea shipments to Tibet and Nepal grew in 2017 along the old road.\n",
    "utf-16-le",
)
_paper(
    "utf16be-nobom.txt",
    "Silk\n\nNanchong silk mills sold brocade to Uzbek buyers in 2016 at a trade fair.\n",
    "utf-16-be",
)
_paper(
    "utf32-bom.txt",
    "Lanterns\n\nZigong lantern workshops shipped dinosaur lanterns to Poland in 2022 for a "
    "festival.\n",
    "utf-32-le",
    codecs.BOM_UTF32_LE,
)
_paper(
    "named \u202egnp.txt",
    "Salt\n\nZiliujing brine wells supplied salt to Laos in 2015 under a barter deal.\n",
)


def _hidden(text: str) -> list[str]:
    """Characters in ``text`` a terminal would act on (tab and newline are fine)."""
    return sorted({c for c in text if not is_display_safe(c)})


def _check(result: subprocess.CompletedProcess[str], home: Path, code: int = 0) -> None:
    """No traceback, no escape character, the exit code; no hostile character on stdout or
    stderr; nothing written under HOME."""
    assert_clean(result, code=code)
    assert not _hidden(result.stdout) and not _hidden(result.stderr), (
        _hidden(result.stdout + result.stderr),
        result.stdout[-1500:],
    )
    assert not any(home.rglob("*")), sorted(map(str, home.rglob("*")))


@pytest.fixture(scope="module")
def hostile(built: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A copy of the shared index with the papers above added by path (one ingest)."""
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(built.index, root / "index")
    ws = Workspace(root, built.corpus, root / "index", built.cache, root / "uploads")
    folder = root / "papers"
    folder.mkdir()
    for name, data in PAPERS.items():
        (folder / name).write_bytes(data)
    home = root / "home"
    home.mkdir()
    added = ws.cli("ingest", str(folder), HOME=str(home))
    _check(added, home)
    assert f"{len(PAPERS)} added" in added.stdout, added.stdout
    return ws


def _doc(ws: Workspace, name: str) -> str:
    """The doc id of the paper ingested from file ``name``."""
    return next(d for d, p in ws.papers().items() if Path(str(p["path"])).name == name)


@dataclass(frozen=True)
class Trial:
    args: Callable[[Workspace], list[str]]
    code: int = 0
    shows: str = ""  # a piece of stdout (code 0) or of the one stderr line (code 1)
    paper: str = ""  # the file whose paper must rank first
    env: tuple[tuple[str, str], ...] = ()


def _ask_within(name: str, question: str, *extra: str) -> Callable[[Workspace], list[str]]:
    return lambda ws: ["ask", *extra, "--paper", _doc(ws, name), question]


TRIALS = {
    # hostile text in a paper's title and sentences
    "c1-quote": Trial(
        _ask_within("c1.txt", "How many trains did the Qingbaijiang dry port handle?"),
        shows="Sources",  # the hostile sentence is quoted
        env=(("ASSISTANT_ANSWER__ABSTAIN_THRESHOLD", "0"),),
    ),
    "bidi-quote": Trial(
        _ask_within("bidi.txt", "How many ships did the Luzhou river port handle?"),
        shows="300 ships",
        env=(("ASSISTANT_ANSWER__ABSTAIN_THRESHOLD", "0"),),
    ),
    "c1-json": Trial(
        _ask_within("c1.txt", "How many trains did the Qingbaijiang dry port handle?", "--json"),
        shows='"citations"',
        env=(("ASSISTANT_ANSWER__ABSTAIN_THRESHOLD", "0"),),
    ),
    "hostile-name-in-sources": Trial(
        _ask_within("named \u202egnp.txt", "Where did the Ziliujing brine wells send salt?"),
        shows="Laos",
        env=(("ASSISTANT_ANSWER__ABSTAIN_THRESHOLD", "0"),),
    ),
    "index-info-piped": Trial(lambda ws: ["index-info"], shows="named \\u202egnp.txt"),
    "index-info-json": Trial(lambda ws: ["index-info", "--json"], shows="\\u202e"),
    "hostile-question": Trial(
        lambda ws: ["ask", f"How many trains{HOSTILE} did the dry port handle?"],
    ),
    # papers in UTF-16 and UTF-32: ingested (by the fixture) and found
    "utf16le-bom-found": Trial(
        lambda ws: ["ask", "--json", "Panzhihua vanadium exports Kazakhstan"],
        shows="Panzhihua",
        paper="utf16le-bom.txt",
    ),
    "utf16be-bom-found": Trial(
        lambda ws: ["ask", "--json", "Leshan hotel bookings Malaysian tourists"],
        shows="Leshan",
        paper="utf16be-bom.txt",
    ),
    "utf16le-nobom-found": Trial(
        lambda ws: ["ask", "--json", "Ya'an dark tea shipments Tibet Nepal"],
        shows="Ya'an",
        paper="utf16le-nobom.txt",
    ),
    "utf16be-nobom-found": Trial(
        lambda ws: ["ask", "--json", "Nanchong silk mills brocade Uzbek"],
        shows="Nanchong",
        paper="utf16be-nobom.txt",
    ),
    "utf32-bom-found": Trial(
        lambda ws: ["ask", "--json", "Zigong lantern workshops dinosaur Poland"],
        shows="Zigong",
        paper="utf32-bom.txt",
    ),
    # misleading errors: the option is named, not a variable the user never set
    "k-million": Trial(
        lambda ws: ["ask", "--k", "1000000", "What did Sichuan open in Mianyang?"],
        code=1,
        shows="--k must be between 1 and 100",
    ),
    "k-zero": Trial(lambda ws: ["ask", "--k", "0", "Mianyang?"], code=1, shows="--k must be"),
    "eval-k-million": Trial(
        lambda ws: ["eval", "--k", "1000000", "--limit", "1"], code=1, shows="--k must be"
    ),
    "utf32-without-bom": Trial(
        lambda ws: ["ingest", str(_write(ws, "wide.txt", "Wide text. ".encode("utf-32-le") * 9))],
        code=1,
        shows="UTF-8, UTF-16 or UTF-32",
    ),
    # a file name that would forge an error line
    "forged-error-line": Trial(
        lambda ws: ["ingest", str(_write(ws, FORGED_NAME, b"").parent)],
        code=1,
        shows="quay\\nerror: the index is corrupt",
    ),
    "missing-path-with-newline": Trial(
        lambda ws: ["ingest", "nowhere\nerror: forged.txt"],
        code=1,
        shows="nowhere\\nerror: forged.txt",
    ),
    # tracebacks: a question that is not UTF-8 (`assistant ask $'\xff\xfe …'`)
    "question-not-utf8": Trial(
        lambda ws: ["ask", "\udcff\udcfe What did Sichuan open in Mianyang in 2018?"],
        shows="Mianyang",
    ),
    "question-not-utf8-json": Trial(
        lambda ws: ["ask", "--json", "\udcff\udcfe What did Sichuan open in Mianyang?"],
        shows="not UTF-8",
    ),
    "question-only-bytes": Trial(lambda ws: ["ask", "\udcff\udcfe"], code=1, shows="empty"),
}


def _write(ws: Workspace, name: str, data: bytes) -> Path:
    path = ws.root / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", list(TRIALS))
def test_hostile_input_trial(hostile: Workspace, tmp_path: Path, name: str) -> None:
    trial = TRIALS[name]
    home = tmp_path / "home"
    home.mkdir()
    ws = Workspace(tmp_path, hostile.corpus, hostile.index, hostile.cache, hostile.uploads)
    args = trial.args(ws)
    result = ws.cli(*args, HOME=str(home), **dict(trial.env))
    _check(result, home, trial.code)
    if trial.code == 0:
        assert trial.shows in result.stdout, result.stdout[-1500:]
        if trial.paper:  # decoded right, the paper's own words find it first
            ranked = [p["doc_id"] for p in json.loads(result.stdout)["passages"]]
            assert ranked and ranked[0] == _doc(ws, trial.paper), ranked
    else:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and trial.shows in lines[0], result.stderr
        assert lines[0].startswith(("error: ", "skipped ")), lines[0]


def test_json_keeps_the_hostile_text_as_data(hostile: Workspace, tmp_path: Path) -> None:
    """``--json`` carries nothing a terminal would act on: C1 controls and bidi overrides
    became spaces at load (one for one), so the quote is the paper's words and offsets."""
    home = tmp_path / "home"
    home.mkdir()
    args = _ask_within("c1.txt", "How many trains did the Qingbaijiang dry port handle?", "--json")
    result = hostile.cli(*args(hostile), HOME=str(home), ASSISTANT_ANSWER__ABSTAIN_THRESHOLD="0")
    _check(result, home)
    quotes = [c["quote"] for c in json.loads(result.stdout)["citations"]]
    assert any("500 trains" in q for q in quotes), quotes
    assert not any("\u202e" in q or "\x9b" in q for q in quotes), quotes


# Run as `python -c`: the CLI with one library call made slow, announced on stderr, so the
# test's SIGINT lands while that call runs (a real `ask` can finish in under a second).
_SLOW_CALL = """
import sys, time
import assistant.cli as cli
from assistant.core import Assistant
real = getattr(Assistant, {stage!r})
def slow(*args, **kwargs):
    print("busy", file=sys.stderr, flush=True)
    time.sleep(30)
    return real(*args, **kwargs)
setattr(Assistant, {stage!r}, staticmethod(slow) if {stage!r} == "load" else slow)
cli.main()
"""


@pytest.mark.parametrize("stage", ["load", "ask"])
def test_ctrl_c_during_ask_is_one_line_and_exit_130(
    hostile: Workspace, tmp_path: Path, stage: str
) -> None:
    """Trial: Ctrl-C while `assistant ask` loaded the index or answered printed a traceback."""
    command = [
        hostile.command()[0],
        "-c",
        _SLOW_CALL.format(stage=stage),
        "ask",
        "What did Sichuan open in Mianyang?",
    ]
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=hostile.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    assert proc.stderr.readline() == "busy\n", proc.stderr.read()
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=CLI_TIMEOUT_S)
    assert "Traceback" not in stdout + stderr, stderr
    assert proc.returncode == 130, (proc.returncode, stdout, stderr)
    assert stderr.strip().splitlines() == ["interrupted"], stderr
    assert stdout == ""
