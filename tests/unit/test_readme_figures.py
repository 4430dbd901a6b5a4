"""scripts/readme_figures.py: README's test figures rewritten from a run's JUnit XML."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.unit

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="1" skipped="3"
 tests="642" time="551.2" timestamp="2026-12-03T14:05:00.123456+00:00" hostname="ci">
<testcase classname="tests.unit.test_x" name="test_a" time="0.01"/>
</testsuite></testsuites>
"""
README = """# Project

Intro.

<!-- test-figures -->
`make test` took about 15 minutes: 638 tests.
<!-- /test-figures -->

After the block.
"""


@pytest.fixture(scope="module")
def figures() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readme_figures", REPO / "scripts" / "readme_figures.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_summary_counts_and_times_from_junit(figures: ModuleType) -> None:
    summary = figures.summarise(JUNIT, total_seconds=962.4, cores=2)
    assert summary == {
        "tests": 642,
        "passed": 638,
        "failed": 1,
        "errors": 0,
        "skipped": 3,
        "pytest_seconds": 551.2,
        "total_seconds": 962.4,
        "cores": 2,
        "date": "2026-12-03",
    }


def test_rewrite_replaces_only_the_block(figures: ModuleType) -> None:
    sentence = figures.render(figures.summarise(JUNIT, total_seconds=962.4, cores=2))
    assert sentence == (
        "`make test` took about 16 minutes on its last full run, 2026-12-03: 642 tests "
        "(1 failed, 3 skipped), 9 minutes of them in pytest on 2 cores, the rest install and lint."
    )
    out = figures.rewrite(README, sentence)
    assert out == README.replace("`make test` took about 15 minutes: 638 tests.", sentence)
    assert figures.rewrite(out, sentence) == out  # idempotent


def test_without_a_start_time_only_pytest_is_reported(figures: ModuleType) -> None:
    sentence = figures.render(
        figures.summarise(JUNIT.replace(' failures="1"', ' failures="0"'), None, None)
    )
    assert sentence.startswith(
        "`make test` ran on its last full run, 2026-12-03: 642 tests (3 skipped)"
    )
    assert "install" not in sentence


@pytest.mark.parametrize("readme", ["# No block here\n", README + README])
def test_a_missing_or_doubled_block_is_refused(figures: ModuleType, readme: str) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        figures.rewrite(readme, "x")


def test_main_records_the_summary_and_rewrites_the_readme(
    figures: ModuleType, tmp_path: Path
) -> None:
    junit, readme, summary = tmp_path / "junit.xml", tmp_path / "README.md", tmp_path / "s.json"
    junit.write_text(JUNIT, encoding="utf-8")
    readme.write_text(README, encoding="utf-8")
    args = ["--junit", str(junit), "--summary", str(summary), "--readme", str(readme)]
    assert figures.main(args) == 0
    assert json.loads(summary.read_text())["tests"] == 642
    assert "642 tests" in readme.read_text() and "After the block." in readme.read_text()
    readme.write_text("# No block\n", encoding="utf-8")
    assert figures.main(["--summary", str(summary), "--readme", str(readme)]) == 1


def test_the_repo_readme_has_the_block(figures: ModuleType) -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert figures.rewrite(text, "x").count("<!-- test-figures -->\nx\n<!-- /test-figures -->") == 1


def test_one_minute_is_singular(figures: ModuleType) -> None:
    summary = figures.summarise(JUNIT.replace('time="551.2"', 'time="12"'), 70.0, 2)
    assert "about 1 minute on" in figures.render(summary)
    assert "1 minute of them" in figures.render(summary)
