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
