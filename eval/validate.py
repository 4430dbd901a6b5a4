#!/usr/bin/env python3
"""Validate a gold question-answering set against the papers it quotes.

    python eval/validate.py [PATH] [--corpus DIR | --corpus FILE.jsonl]

PATH defaults to ``eval/gold_qa.jsonl`` and the corpus to ``corpus/``, both relative to the
repo root (the parent of ``eval/``). ``--corpus`` is either a folder of paper files or a
JSON-lines collection (e.g. SciFact's ``corpus.jsonl``), whose documents are named and written
as ``assistant eval --corpus`` names and writes them (``<_id>.md``: title heading, text). Exit
status 1 and one line per problem when the set is invalid; otherwise exit 0 with a one-line
summary of counts per type, per split and per document.

Importable too: :func:`validate` returns the problems as a list of strings (empty = valid).

The schema is the harness's own :class:`assistant.evaluation.models.GoldItem` (field types,
the question types, the optional ``split``) and its :meth:`~GoldItem.problems` (answerable items
have an answer, evidence and key facts, each key fact occurs case-insensitively with
whitespace collapsed in one of the item's quotes; unanswerable items have neither; quotes have
no line break). Checked here on top: valid JSON objects, unique ids, every evidence doc is a
document of the corpus, every quote an exact substring of that document's raw text (decoded as
the loader does, UTF-8 with optional BOM), and either every item has a split or none has.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(REPO_ROOT))

from pydantic import ValidationError  # noqa: E402

from assistant.errors import AssistantError  # noqa: E402
from assistant.evaluation.corpora import read_jsonl_corpus  # noqa: E402
from assistant.evaluation.models import SPLITS, TYPES, GoldItem  # noqa: E402

DEFAULT_PATH = REPO_ROOT / "eval" / "gold_qa.jsonl"
DEFAULT_CORPUS = REPO_ROOT / "corpus"

# Words too common in this corpus (or in questions generally) to signal copying.
_STOP = frozenset(
    """a an the and or of to in on at by for from with without as is are was were be been being
    it its this that these those there their they them what which who whom whose when where why
    how does do did doing has have had can could should would will may might must shall not no
    yes than then so such about into over under between per each any all some more most much many
    according paper papers author authors say says said describe described give gives given
    list name names mention mentioned version versions i me my we our you your he she his her
    one two""".split()
)


def content_words(text: str) -> set[str]:
    """Crude content-word set: lower-cased alphanumeric tokens minus stop words, plural 's' cut."""
    words = set()
    for tok in re.findall(r"[a-z0-9]+", text.lower()):
        if tok in _STOP or len(tok) < 2:
            continue
        if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss"):
            tok = tok[:-1]
        words.add(tok)
    return words


def question_overlap(item: dict) -> float | None:
    """Share of the question's content words that also occur in its evidence quotes.

    ``None`` for items without evidence. Low values mean the question is paraphrased rather
    than copied from the source, which is what makes a retrieval test meaningful.
    """
    quotes = [e.get("quote", "") for e in item.get("evidence") or [] if isinstance(e, dict)]
    if not quotes:
        return None
    q = content_words(str(item.get("question", "")))
    if not q:
        return None
    ev = content_words(" ".join(str(x) for x in quotes))
    return len(q & ev) / len(q)


def load_items(path: Path) -> tuple[list[tuple[int, dict]], list[str]]:
    """Parse the JSONL file; return ``(line number, object)`` pairs and parse problems."""
    items: list[tuple[int, dict]] = []
    problems: list[str] = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [f"{path}: no such file"]
    except UnicodeDecodeError as e:
        return [], [f"{path}: not UTF-8 ({e})"]
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {n}: invalid JSON ({e.msg} at column {e.colno})")
            continue
        if not isinstance(obj, dict):
            problems.append(f"line {n}: expected a JSON object, got {type(obj).__name__}")
            continue
        items.append((n, obj))
    return items, problems


class _Corpus:
    """The documents quotes are checked against: a folder of files or a JSON-lines file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: dict[str, str | None] = {}
        self.jsonl: dict[str, str] | None = None
        self.problem: str | None = None
        if path.is_file():
            try:
                self.jsonl = read_jsonl_corpus(path)
            except AssistantError as e:
                self.problem = str(e)
        elif not path.is_dir():
            self.problem = f"{path}: corpus directory not found (quotes not checked)"

    def text(self, doc: str) -> str | None:
        if self.jsonl is not None:
            return self.jsonl.get(doc)
        if doc not in self._cache:
            p = self.path / doc
            # A doc is a plain file name inside the corpus dir, never a path out of it.
            if Path(doc).name != doc or doc in ("", ".", "..") or not p.is_file():
                self._cache[doc] = None
            else:
                self._cache[doc] = p.read_bytes().decode("utf-8-sig", errors="replace")
        return self._cache[doc]


_KINDS = {"string_type": "str", "list_type": "list", "dict_type": "object", "model_type": "object"}


def schema_problems(obj: dict) -> tuple[GoldItem | None, list[str]]:
    """Parse one object with the harness's GoldItem; its errors as plain lines."""
    try:
        item = GoldItem.model_validate(obj)
    except ValidationError as e:
        return None, [_explain(err, obj) for err in e.errors()]
    return item, item.problems()


def _explain(err: dict, obj: dict) -> str:
    loc = [str(p) for p in err.get("loc", ())]
    kind = err.get("type", "")
    value = err.get("input")
    if kind == "missing" and len(loc) == 1:
        return f"missing field '{loc[0]}'"
    if loc == ["type"] and kind == "literal_error":
        return f"unknown type '{value}' (allowed: {', '.join(TYPES)})"
    if loc == ["split"] and kind == "literal_error":
        return f"unknown split '{value}' (allowed: {', '.join(SPLITS)}, or no split)"
    if len(loc) == 1 and kind in _KINDS:
        return f"field '{loc[0]}' must be {_KINDS[kind]}, got {type(value).__name__}"
    if loc[:1] == ["evidence"] and len(loc) >= 2:
        where = f"evidence[{loc[1]}]"
        field = f" '{loc[2]}'" if len(loc) > 2 else ""
        return f"{where}{field}: {err.get('msg', kind)} (expected {{'doc', 'quote'}} strings)"
    return f"{'.'.join(loc) or 'item'}: {err.get('msg', kind)}"


def validate(path: str | Path = DEFAULT_PATH, corpus_dir: str | Path = DEFAULT_CORPUS) -> list[str]:
    """Check the gold set at ``path`` against the documents in ``corpus_dir``.

    ``corpus_dir`` is a folder of papers or a JSON-lines corpus file. Returns human-readable
    problems, one string each; an empty list means the set is valid.
    """
    path = Path(path)
    items, problems = load_items(path)
    corpus = _Corpus(Path(corpus_dir))
    if corpus.problem:
        problems.append(corpus.problem)
    if not items and not problems:
        problems.append(f"{path}: no items")
    seen_ids: dict[str, int] = {}
    splits: dict[bool, list[str]] = {True: [], False: []}
    for n, obj in items:
        iid = obj.get("id")
        label = f"line {n} ({iid})" if isinstance(iid, str) and iid else f"line {n}"
        if isinstance(iid, str) and iid:
            if iid in seen_ids:
                problems.append(f"{label}: duplicate id '{iid}' (first on line {seen_ids[iid]})")
            else:
                seen_ids[iid] = n
        item, found = schema_problems(obj)
        problems += [f"{label}: {p}" for p in found]
        if item is None:
            continue
        splits[item.split is not None].append(label)
        if corpus.problem:
            continue
        for i, ev in enumerate(item.evidence):
            raw = corpus.text(ev.doc) if ev.doc else None
            if not ev.doc or not ev.quote.strip():
                continue
            if raw is None:
                problems.append(f"{label} evidence[{i}]: doc '{ev.doc}' not found in {corpus.path}")
            elif ev.quote not in raw:
                short = ev.quote if len(ev.quote) <= 80 else ev.quote[:77] + "..."
                problems.append(
                    f"{label} evidence[{i}]: quote not found verbatim in {ev.doc}: {short!r}"
                )
    if splits[True] and splits[False]:
        problems.append(
            f"{len(splits[False])} item(s) have no split, e.g. {splits[False][0]}: "
            "run python eval/split.py"
        )
    return problems


def summarize(path: str | Path = DEFAULT_PATH, max_overlap: float = 1 / 3) -> str:
    """One line: item count, counts per type, items citing each doc, paraphrased share.

    Assumes the set parses (call :func:`validate` first).
    """
    items = [obj for _, obj in load_items(Path(path))[0]]
    types = Counter(str(i.get("type")) for i in items)
    splits = Counter(str(i["split"]) for i in items if i.get("split"))
    per_doc: Counter[str] = Counter()
    overlaps = []
    for i in items:
        for doc in {e.get("doc") for e in i.get("evidence") or [] if isinstance(e, dict)}:
            per_doc[str(doc)] += 1
        ov = question_overlap(i)
        if ov is not None:
            overlaps.append(ov)
    low = sum(1 for ov in overlaps if ov <= max_overlap + 1e-9)
    t = ", ".join(f"{k}={types[k]}" for k in TYPES if types[k]) or "none"
    d = ", ".join(f"{k}={v}" for k, v in sorted(per_doc.items())) or "none"
    sp = ", ".join(f"{k}={splits[k]}" for k in SPLITS if splits[k]) or "none"
    return (
        f"OK: {len(items)} items; types: {t}; splits: {sp}; items citing each doc: {d}; "
        f"paraphrased (<= {max_overlap:.0%} of question content words in quotes): "
        f"{low}/{len(overlaps)}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Validate the gold QA set against the corpus.")
    ap.add_argument("path", nargs="?", default=str(DEFAULT_PATH), help="gold set (JSONL)")
    ap.add_argument(
        "--corpus", default=str(DEFAULT_CORPUS), help="corpus folder, or a JSON-lines corpus"
    )
    args = ap.parse_args(argv)
    problems = validate(args.path, args.corpus)
    if problems:
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s) in {args.path}", file=sys.stderr)
        return 1
    print(summarize(args.path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
