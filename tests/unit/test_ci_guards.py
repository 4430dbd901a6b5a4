"""The CI guards (tests/ci_guards.py): under CI=true an llm/e2e/Milvus/Ray skip fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CONFTEST = """
from tests.ci_guards import (  # noqa: F401
    pytest_collection_modifyitems, pytest_make_collect_report, pytest_runtest_makereport,
)
def pytest_configure(config):
    for name in ("llm", "e2e", "milvus", "ray", "unit", "integration"):
        config.addinivalue_line("markers", name)
"""
TESTS = """
import pytest

@pytest.mark.llm
def test_needs_llm():
    pytest.skip("no GGUF file")

@pytest.mark.milvus
@pytest.mark.skipif(True, reason="no pymilvus")
def test_needs_milvus():
    pass

def test_plain_skip():
    pytest.skip("not applicable here")

@pytest.mark.ray
@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.unit
def test_timeout_from_marker(request):
    assert request.node.get_closest_marker("timeout").args == (120,)
"""
MODULE_SKIP = 'import pytest\npytest.importorskip("no_such_module_xyz")\n'


def _pytest(folder: Path, ci: str) -> str:
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", str(folder)]
    done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    return done.stdout + done.stderr


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_guarded.py").write_text(TESTS)
    return tmp_path


def test_skips_of_optional_parts_fail_under_ci(suite: Path) -> None:
    summary = _pytest(suite, "true").splitlines()[-1]
    assert "1 failed" in summary and "1 error" in summary, summary  # llm skip, milvus skipif
    assert "1 skipped" in summary and "1 xfailed" in summary and "1 passed" in summary


def test_the_same_skips_pass_off_ci(suite: Path) -> None:
    summary = _pytest(suite, "").splitlines()[-1]
    assert " failed" not in summary and "error" not in summary and "3 skipped" in summary


def test_a_module_skipped_at_import_fails_under_ci(suite: Path) -> None:
    (suite / "test_guarded.py").write_text(MODULE_SKIP)
    assert "error" in _pytest(suite, "true").splitlines()[-1]
    assert "skipped" in _pytest(suite, "").splitlines()[-1]
