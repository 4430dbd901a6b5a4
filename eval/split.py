#!/usr/bin/env python3
"""Split a gold QA set into ``dev`` (tune on it) and ``test`` (report it), stratified by type.

Standalone (standard library only)::

    python eval/split.py [PATH] [--seed SEED] [--check]

Within each question type, items are ordered by ``sha256(SEED + ":" + id)`` and the first
``round(n * DEV_SHARE)`` become ``dev``, the rest ``test``. The order depends only on the seed
and each item's id, so the split is deterministic, ids stay stable, and adding an item never
moves an existing one to the other side unless its type's dev quota changes. ``--seed`` picks
another seed for another set (default: the gold set's ``SEED``). The result is
written back as a ``"split"`` field on every item (file order and other fields unchanged).
``--check`` writes nothing and exits 1 when the stored split differs from the computed one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

SEED = "bri-gold-split-v1"
DEV_SHARE = 2 / 3
DEFAULT_PATH = Path(__file__).resolve().parent / "gold_qa.jsonl"


def _rank(item_id: str, seed: str) -> str:
    return hashlib.sha256(f"{seed}:{item_id}".encode()).hexdigest()


def assign_splits(
    items: list[dict], seed: str = SEED, dev_share: float = DEV_SHARE
) -> dict[str, str]:
    """``{id: "dev" | "test"}``: per type, the ``round(n * dev_share)`` lowest hashes are dev."""
    by_type: dict[str, list[str]] = defaultdict(list)
    for item in items:
        by_type[str(item["type"])].append(str(item["id"]))
    out: dict[str, str] = {}
    for ids in by_type.values():
        ordered = sorted(ids, key=lambda i: _rank(i, seed))
        n_dev = round(len(ordered) * dev_share)
        out.update({i: ("dev" if n < n_dev else "test") for n, i in enumerate(ordered)})
    return out


def _read(path: Path) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Assign a stratified dev/test split.")
    ap.add_argument("path", nargs="?", default=str(DEFAULT_PATH), help="gold set (JSONL)")
    ap.add_argument("--seed", default=SEED, help=f"hash seed (default {SEED!r})")
    ap.add_argument("--check", action="store_true", help="verify only, write nothing")
    args = ap.parse_args(argv)
    path = Path(args.path)
    items = _read(path)
    splits = assign_splits(items, seed=args.seed)
    wrong = [i["id"] for i in items if i.get("split") != splits[i["id"]]]
    if args.check:
        for iid in wrong:
            print(f"{iid}: stored split differs from the computed {splits[iid]!r}")
        return 1 if wrong else 0
    rows = [json.dumps({**i, "split": splits[i["id"]]}, ensure_ascii=False) for i in items]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    n_dev = sum(1 for s in splits.values() if s == "dev")
    print(f"{path}: {n_dev} dev, {len(splits) - n_dev} test ({len(wrong)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
