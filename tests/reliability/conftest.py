"""The reliability suite: the real CLI in subprocesses, the real model, temporary index folders.

One index is built once per session (a tiny bundled corpus, then a folder of papers added by
path, so it has two generations); each test works on its own copy of it and shares the
embedding cache, so a re-ingest embeds nothing it has seen before.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_S = 600  # the machine may be shared; a model-loading command takes 5-60 s

# A title with Rich markup (closing tags that would crash Rich), an LLM prompt tag, and a
# terminal escape sequence that would recolour the terminal; the body has Markdown that
# would load a remote image in the UI.
MARKUP_TITLE = "Rail [/x] freight [/INST] report \x1b[31mred\x1b]0;pwned\x07 text"
MARKUP_BODY = (
    f"{MARKUP_TITLE}\n\n"
    "The Chengdu rail freight hub grew quickly in 2019 because new express trains "
    "reached Lodz and Nuremberg. ![x](http://evil.example/a.png) [click](http://evil.example)\n"
)
MARKUP_DIR = "papers [/x]"  # two folders, "papers [" and "x]": Rich reads "[/x]" as a tag
MARKUP_FILE = "notes [bold].txt"

BUNDLED = {
    "p1.txt": (
        "Chongqing inland port\n\n"
        "Chongqing logistics parks expanded along the Yangtze river port in 2020, with bonded "
        "zones serving exporters in the west of China.\n"
    ),
    "p2.txt": (
        "Sichuan science parks\n\n"
        "Sichuan opened three science and technology parks in Mianyang in 2018 to train "
        "engineers for Belt and Road projects.\n"
    ),
}


@dataclass
class Workspace:
    """Folders and environment for one test's CLI runs."""

    root: Path
    corpus: Path
    index: Path
    cache: Path
    uploads: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    built_papers: set[str] = field(default_factory=set)  # the shared index's paper ids

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "FORCE_COLOR"))
        }
        env.update(
            PYTHONPATH=str(REPO),
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            COLUMNS="300",  # no wrapped lines: a message is one line
            TERM="dumb",
            ASSISTANT_PATHS__CORPUS_DIR=str(self.corpus),
            ASSISTANT_PATHS__INDEX_DIR=str(self.index),
            ASSISTANT_PATHS__CACHE_DIR=str(self.cache),
            ASSISTANT_PATHS__UPLOADS_DIR=str(self.uploads),
        )
        env.update(self.extra_env)
        env.update(extra)
        return env

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "assistant.cli", *args]

    def cli(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """Run ``assistant ARGS`` to completion from the workspace folder."""
        return subprocess.run(
            self.command(*args),
            cwd=self.root,
            env=self.env(**extra_env),
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def papers(self) -> dict[str, dict[str, object]]:
        """``index-info --json``'s papers by id (the command must succeed)."""
        result = self.cli("index-info", "--json")
        assert_clean(result)
        return {p["doc_id"]: p for p in json.loads(result.stdout)["papers"]}

    def info(self) -> dict[str, object]:
        result = self.cli("index-info", "--json")
        assert_clean(result)
        return dict(json.loads(result.stdout))


def assert_clean(result: subprocess.CompletedProcess[str], code: int = 0) -> None:
    """No traceback, no raw terminal control, the expected exit code."""
    both = result.stdout + result.stderr
    assert "Traceback" not in both, both
    assert "\x1b" not in both and "\x07" not in both, repr(both[-2000:])
    assert result.returncode == code, both[-2000:]


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed with exactly one ``error:`` line on stderr and exit code 1."""
    assert_clean(result, code=1)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The shared index: the bundled corpus (gen 1), then a folder of papers by path (gen 2)."""
    root = tmp_path_factory.mktemp("reliability")
    ws = Workspace(root, root / "corpus", root / "index", root / "cache", root / "uploads")
    ws.corpus.mkdir()
    for name, text in BUNDLED.items():
        (ws.corpus / name).write_text(text, encoding="utf-8")
    folder = root / MARKUP_DIR
    folder.mkdir(parents=True)
    (folder / MARKUP_FILE).write_text(MARKUP_BODY, encoding="utf-8")
    assert_clean(ws.cli("ingest"))
    added = ws.cli("ingest", str(folder))
    assert_clean(added)
    assert "1 added" in added.stdout
    ws.built_papers = set(ws.papers())
    assert len(ws.built_papers) == len(BUNDLED) + 1
    return ws


@pytest.fixture
def ws(built: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the shared index (same corpus, same embedding cache)."""
    index = tmp_path / "index"
    shutil.copytree(built.index, index)
    return Workspace(
        tmp_path,
        built.corpus,
        index,
        built.cache,
        tmp_path / "uploads",
        built_papers=built.built_papers,
    )
