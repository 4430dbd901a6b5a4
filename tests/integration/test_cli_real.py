"""`assistant ask` on the real model, as a user runs it: stdout holds the answer and its
sources, stderr nothing (no model-loading bars, no notes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from tests.conftest import cli_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_ask_prints_only_the_answer(
    tmp_path: Path, real_settings: Settings, real_assistant: Assistant
) -> None:
    env = cli_env(real_settings, COLUMNS="200")
    question = "When was the Sichuan Pilot Free Trade Zone established?"
    cmd = [sys.executable, "-m", "assistant.cli", "ask", question]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "2017" in done.stdout and "\nSources\n" in done.stdout
    assert "[1] " in done.stdout
    as_json = subprocess.run(
        [*cmd, "--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert as_json.stderr == ""
    assert json.loads(as_json.stdout)["citations"]
    assert list(tmp_path.iterdir()) == []  # nothing written to the working folder


def test_piped_output_follows_shell_habits(
    tmp_path: Path, real_settings: Settings, real_assistant: Assistant
) -> None:
    """`assistant ask … | cat`: each paragraph on one line, whatever the terminal width, and no
    escape codes; a missing path fails before any work with stdout left empty."""
    env = cli_env(real_settings, COLUMNS="40")
    question = "When was the Sichuan Pilot Free Trade Zone established?"
    cmd = [sys.executable, "-m", "assistant.cli"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cmd, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    plain, as_json = run("ask", question), run("ask", "--json", question)
    assert plain.returncode == 0 and as_json.returncode == 0, plain.stderr + as_json.stderr
    answer = json.loads(as_json.stdout)
    lines = plain.stdout.splitlines()
    paragraphs = [p for p in answer["text"].splitlines() if p.strip()]
    assert max(map(len, paragraphs)) > 40 and all(p in lines for p in paragraphs), plain.stdout
    assert "\x1b" not in plain.stdout + plain.stderr
    missing = run("ingest", "/nonexistent")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "/nonexistent" in missing.stderr
    help_text = run("ask", "--help").stdout
    assert "<bool>" not in help_text and "{question}" not in help_text
