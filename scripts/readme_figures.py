"""README's test figures from the last `make test`, never typed by hand.

    .venv/bin/python scripts/readme_figures.py --junit test-output/junit.xml --since START

`make test` runs pytest with ``--junitxml=test-output/junit.xml`` and then this script with
the time it started (before install and lint): it writes ``test-output/summary.json`` (tests,
passed, failed, skipped, pytest and total seconds, cores, date) and rewrites the block of
README.md between ``<!-- test-figures -->`` and ``<!-- /test-figures -->`` from it. With
``--summary`` alone it rewrites README from a summary already recorded. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEGIN = "<!-- test-figures -->"
END = "<!-- /test-figures -->"
_BLOCK = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.S)


def summarise(junit_xml: str, total_seconds: float | None, cores: int | None) -> dict[str, Any]:
    """Counts and times from pytest's JUnit XML (one or more ``testsuite`` elements)."""
    root = ET.fromstring(junit_xml)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if not suites:
        raise ValueError("no <testsuite> in the JUnit XML: was it written by pytest --junitxml?")

    def total(name: str) -> int:
        return sum(int(s.get(name, 0)) for s in suites)

    tests, failed, errors, skipped = (total(k) for k in ("tests", "failures", "errors", "skipped"))
    stamp = suites[0].get("timestamp") or datetime.now(UTC).isoformat()
    return {
        "tests": tests,
        "passed": tests - failed - errors - skipped,
        "failed": failed,
        "errors": errors,
        "skipped": skipped,
        "pytest_seconds": round(sum(float(s.get("time", 0)) for s in suites), 1),
        "total_seconds": None if total_seconds is None else round(total_seconds, 1),
        "cores": cores,
        "date": stamp[:10],
    }


def _minutes(seconds: float) -> str:
    n = max(1, round(seconds / 60))
    return f"{n} minute" if n == 1 else f"{n} minutes"


def render(summary: dict[str, Any]) -> str:
    """The README sentence for a summary (what ``make test`` costs and how many tests run)."""
    tests = f"{summary['tests']:,} tests"
    not_run = [f"{summary[k]} {k}" for k in ("failed", "errors", "skipped") if summary.get(k)]
    if not_run:
        tests += f" ({', '.join(not_run)})"
    cores = f" on {summary['cores']} cores" if summary.get("cores") else ""
    pytest_part = f"{_minutes(summary['pytest_seconds'])} of them in pytest{cores}"
    if summary.get("total_seconds"):
        head = f"`make test` took about {_minutes(summary['total_seconds'])}"
        rest = ", the rest install and lint"
    else:
        head, rest = "`make test` ran", ""
    return f"{head} on its last full run, {summary['date']}: {tests}, {pytest_part}{rest}."


def rewrite(readme: str, sentence: str) -> str:
    """``readme`` with its figures block holding ``sentence``; the rest byte for byte."""
    if len(_BLOCK.findall(readme)) != 1:
        raise ValueError(f"README needs exactly one {BEGIN} ... {END} block to rewrite")
    return _BLOCK.sub(lambda _: f"{BEGIN}\n{sentence}\n{END}", readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--junit", type=Path, help="pytest's --junitxml output")
    parser.add_argument("--since", type=float, help="Unix time `make test` started")
    parser.add_argument("--summary", type=Path, default=ROOT / "test-output" / "summary.json")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    if args.junit is not None:
        total = None if args.since is None else time.time() - args.since
        summary = summarise(args.junit.read_text(encoding="utf-8"), total, os.cpu_count())
        args.summary.parent.mkdir(parents=True, exist_ok=True)
        args.summary.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    elif not args.summary.is_file():
        print(f"no {args.summary}: run `make test` first (or pass --junit)", file=sys.stderr)
        return 1
    summary = json.loads(args.summary.read_text(encoding="utf-8"))
    try:
        text = rewrite(args.readme.read_text(encoding="utf-8"), render(summary))
    except ValueError as e:
        print(f"{args.readme}: {e}", file=sys.stderr)
        return 1
    args.readme.write_text(text, encoding="utf-8")
    print(f"{args.readme.name}: {render(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
