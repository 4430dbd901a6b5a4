"""Print issue 22's quality table (Markdown) from the kept eval reports.

    python eval/quality_table.py [--gold DIR] [--everyday DIR] [--scifact DIR]

Each DIR is an `assistant eval --out` folder; its results.json gives the detail mode's summary
per split (``runs[primary].by_split``). One row per figure of issue 22; columns: the targets,
gold dev and test, everyday dev and test, SciFact test. A test value meeting its own set's
target (targets.py, picked by the report's ``targets`` kind) is bold. A folder without a
results.json is skipped with a note under the table, its columns left as "–".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant.evaluation.targets import Target, targets_for

RESULTS = Path("eval") / "results"
# (column set, default folder, the target kind it is read against, splits shown)
SETS: tuple[tuple[str, Path, str, tuple[str, ...]], ...] = (
    ("gold", RESULTS / "gold-split", "gold", ("dev", "test")),
    ("everyday", RESULTS / "everyday-split", "everyday", ("dev", "test")),
    ("SciFact", RESULTS / "scifact-qa", "second-domain", ("test",)),
)
FIGURES: tuple[tuple[str, str], ...] = (
    ("key_fact_recall", "key-fact recall"),
    ("first_citation_key_fact_recall", "first-citation key-fact recall"),
    ("abstention_accuracy", "abstention accuracy"),
    ("false_abstention_rate", "false abstention"),
    ("citation_precision", "citation precision"),
    ("exact_citation_share", "exact quotes"),
    ("latency_p50", "latency p50"),
)
JUDGED = "test"

Summary = dict[str, float | None]


def load(folder: Path) -> dict[str, object] | None:
    """The folder's results.json, or None when it has none."""
    path = folder / "results.json"
    if not path.is_file():
        return None
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return data


def split_summaries(data: dict[str, object]) -> dict[str, Summary]:
    """The detail (primary) mode's summary per split."""
    runs = data.get("runs")
    if not isinstance(runs, list) or not runs:
        return {}
    primary = data.get("primary")
    run = next((r for r in runs if r.get("mode") == primary), runs[0])
    by_split = run.get("by_split")
    return by_split if isinstance(by_split, dict) else {}


def target(kind: str, key: str) -> Target | None:
    """The overall (not per-type) target of ``key`` for that kind, if it sets a goal."""
    return next(
        (t for t in targets_for(kind) if t.key == key and t.qtype is None and t.goal is not None),
        None,
    )


def fmt(key: str, value: float | None) -> str:
    if value is None:
        return "–"
    if key == "latency_p50":
        return f"{value * 1000:.0f} ms"
    return f"{value:.3f}"


def target_text(key: str, kinds: Sequence[tuple[str, str]]) -> str:
    """The goals of every set for one figure: one text when they agree, else one per set."""
    goals = [(name, t.goal_text) for name, kind in kinds if (t := target(kind, key))]
    if not goals:
        return "(shown)"
    texts = {text for _, text in goals}
    if len(texts) == 1 and len(goals) == len(kinds):
        return texts.pop()
    return "; ".join(f"{name} {text}" for name, text in goals)


def render(folders: dict[str, Path]) -> str:
    """The table (and a note per folder skipped) for the report folders of each set."""
    columns: list[tuple[str, str, str]] = []  # (header, key of loaded summaries, split)
    loaded: dict[str, tuple[str, dict[str, Summary]]] = {}
    notes: list[str] = []
    kinds: list[tuple[str, str]] = []
    for name, default, kind, splits in SETS:
        folder = folders.get(name, default)
        data = load(folder)
        if data is None:
            notes.append(f"- {name}: no results.json in `{folder}`, skipped")
        else:
            kind = str(data.get("targets") or kind)
            loaded[name] = (kind, split_summaries(data))
        kinds.append((name, kind))
        columns += [(f"{name} {sp}", name, sp) for sp in splits]
    kind_of = dict(kinds)
    header = ["figure", "target", *[h for h, _, _ in columns]]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for key, label in FIGURES:
        cells = [label, target_text(key, kinds)]
        for _, name, sp in columns:
            summaries = loaded.get(name, ("", {}))[1]
            value = summaries.get(sp, {}).get(key)
            text = fmt(key, value)
            goal = target(kind_of[name], key)
            if sp == JUDGED and goal is not None and goal.met(value):
                text = f"**{text}**"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    legend = f"Bold: the {JUDGED} value meets its set's target (issue 22, targets.py)."
    return "\n\n".join([table, legend, *(["\n".join(notes)] if notes else [])]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, default, _, _ in SETS:
        parser.add_argument(
            f"--{name.lower()}", type=Path, default=default, help=f"report folder ({default})"
        )
    args = parser.parse_args(argv)
    folders = {name: getattr(args, name.lower()) for name, *_ in SETS}
    sys.stdout.write(render(folders))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
