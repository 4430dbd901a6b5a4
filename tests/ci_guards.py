"""Pytest hooks that keep CI honest, imported by tests/conftest.py (kept light: no assistant).

Under CI=true a test that needs an optional part (local LLM, browser, Milvus, Ray) must run:
a skip there means CI did not install what it claims to test, so it fails instead. A module
skipped at import (``pytest.importorskip``) fails too. Each test gets a timeout by marker.
"""

from __future__ import annotations

import os

import pytest

MUST_RUN_IN_CI = ("llm", "e2e", "milvus", "ray")
# Seconds per test by marker (the largest of its markers); unmarked tests get pyproject's timeout.
TIMEOUTS = {"unit": 120, "integration": 900, "e2e": 600, "llm": 900}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is not None:
            continue
        limits = [s for name, s in TIMEOUTS.items() if item.get_closest_marker(name)]
        if limits:
            item.add_marker(pytest.mark.timeout(max(limits)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if not (_in_ci() and report.skipped) or hasattr(report, "wasxfail"):
        return
    needs = [m for m in MUST_RUN_IN_CI if item.get_closest_marker(m)]
    if needs:
        _fail_skip(report, f"a {'/'.join(needs)} test")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    """A whole module skipped at import (``pytest.importorskip``) is a missing dependency."""
    outcome = yield
    report = outcome.get_result()
    if _in_ci() and report.skipped:
        _fail_skip(report, "a test module")


def _fail_skip(report: pytest.TestReport | pytest.CollectReport, what: str) -> None:
    reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
    report.outcome = "failed"
    report.longrepr = (
        f"{what} was skipped under CI=true ({reason}): CI must run it. Install what it needs "
        "(`make setup-dev`: the [dev,llm,scale] extras and the browser) or fix the skip."
    )
