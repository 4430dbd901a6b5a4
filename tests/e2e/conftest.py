"""A real Streamlit server on a free local port, its index, cache and uploads in tmp.

The browser is Debian's Chromium (``scripts/install_browser.sh``), driven by Playwright's
Python API; Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.procs import free_port, stop

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
STARTUP_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Server:
    url: str
    root: Path  # tmp folder holding index/, cache/, uploads/ and the server log
    log: Path


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)  # polling interval, not an assertion
    tail = log.read_text()[-3000:]
    pytest.fail(f"streamlit not healthy after {STARTUP_TIMEOUT_S:.0f} s:\n{tail}")


@pytest.fixture(scope="module")
def streamlit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`streamlit run streamlit_app.py` with every writable path under tmp; stopped afterwards."""
    root = tmp_path_factory.mktemp("e2e-app")
    port = free_port()
    env = {
        **os.environ,
        "ASSISTANT_PATHS__CORPUS_DIR": str(REPO / "corpus"),
        "ASSISTANT_PATHS__INDEX_DIR": str(root / "index"),
        "ASSISTANT_PATHS__CACHE_DIR": str(root / "cache"),
        "ASSISTANT_PATHS__UPLOADS_DIR": str(root / "uploads"),
        "HF_HUB_OFFLINE": "1",
    }
    log = root / "streamlit.log"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield Server(url=url, root=root, log=log)
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium under Playwright; the test is skipped when it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing: run `bash scripts/install_browser.sh` (CI does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def screenshot_dir() -> Path:
    """Screenshots land in test-output/e2e/ at the repo root (gitignored)."""
    out = REPO / "test-output" / "e2e"
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {out}")
    return out
