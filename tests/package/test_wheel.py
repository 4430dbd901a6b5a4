"""The built wheel works like an installed tool: from an empty folder, nothing in site-packages.

Builds the wheel from a copy of the checkout, installs it (``--no-deps``) into a fresh venv
made from the base interpreter, and makes the heavy dependencies (torch, faiss...) of the venv
running the tests visible through a ``.pth`` line. A plain path line adds that site-packages
without running its ``.pth`` files, so the checkout's editable install there is not active:
``assistant`` can only come from the wheel, which the test checks. Then, in an empty
temporary folder, ``assistant ask`` (which builds ``./index`` on first use) answers from the
bundled papers with nothing on stderr, and ``assistant ingest`` finds that index up to date.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("assistant", "corpus", "prompts", "setup.py", "pyproject.toml", "README.md")


def _run(cmd: list[str], cwd: Path, env: dict[str, str], stderr: str | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    if stderr is not None:
        assert done.stderr == stderr, done.stderr
    return done.stdout + done.stderr


def _build_wheel(tmp: Path, env: dict[str, str]) -> Path:
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        item = REPO / name
        if item.is_dir():
            shutil.copytree(item, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, src / name)
    dist = tmp / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    _run([*pip, "-w", str(dist), str(src)], tmp, env)
    (wheel,) = dist.glob("bri_assistant-*.whl")
    return wheel


def _venv(tmp: Path, wheel: Path, env: dict[str, str]) -> tuple[Path, Path]:
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp, env)
    python = venv / "bin" / "python"
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp, env
        ).strip()
    )
    shared = [p for p in (*site.getsitepackages(), sysconfig.get_path("purelib")) if p]
    (purelib / "_shared_deps.pth").write_text("\n".join(dict.fromkeys(shared)) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q"]
    _run([*pip, str(wheel)], tmp, env)
    return venv, purelib


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_wheel_ingests_and_answers_from_an_empty_folder(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "PYTHON"))}
    env |= {"PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1", "NO_COLOR": "1"}
    wheel = _build_wheel(tmp_path, env)
    venv, purelib = _venv(tmp_path, wheel, env)
    cli = str(venv / "bin" / "assistant")
    work = tmp_path / "work"
    work.mkdir()
    where = _run(
        [str(venv / "bin" / "python"), "-c", "import assistant; print(assistant.__file__)"],
        work,
        env,
    )
    assert Path(where.strip()).is_relative_to(purelib), where  # the wheel, not the checkout
    model = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from assistant.answering.scorer import load_model, MODEL_FILE;"
            " import importlib.resources as r; m = load_model();"
            " print(r.files('assistant.answering') / MODEL_FILE, m.threshold)",
        ],
        work,
        env,
    )
    assert Path(model.split()[0]).is_relative_to(purelib), model  # the reader's shipped weights
    before = _tree(purelib)

    question = "When was the Sichuan Pilot Free Trade Zone established?"
    first_use = "building the index from the bundled papers (about 30 s, once)…\n"
    answer = _run([cli, "ask", question], work, env, stderr=first_use)  # builds ./index
    ingested = " ".join(_run([cli, "ingest"], work, env).split())
    assert "4 docs (0 added, 0 updated, 4 unchanged), 0 removed" in ingested, ingested

    assert "2017" in answer, answer
    assert "Sources" in answer and "[1]" in answer, answer
    assert (work / "index" / "CURRENT").is_file()
    assert (work / ".cache").is_dir()
    assert _tree(purelib) == before, "the installed copy wrote into site-packages"
