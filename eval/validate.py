#!/usr/bin/env python3
"""Validate the gold question-answering set against the raw corpus.

Standalone (standard library only, no dependency on the ``assistant`` package), so it can
run before anything is installed::

    python eval/validate.py [PATH] [--corpus DIR]

PATH defaults to ``eval/gold_qa.jsonl`` and DIR to ``corpus/``, both relative to the repo
root (the parent of ``eval/``). Exit status 1 and one line per problem when the set is
invalid; otherwise exit 0 with a one-line summary of counts per type and per document.

Importable too: :func:`validate` returns the problems as a list of strings (empty = valid).

Each line of the set is one JSON object::

    {"id": "q001", "question": str, "answer": str,
     "evidence": [{"doc": "<corpus file name>", "quote": "<exact substring, no newline>"}],
     "type": "factoid" | "numeric" | "list" | "why/how" | "comparison" | "unanswerable",
     "key_facts": [str, ...]}

Rules checked: valid JSON objects; required fields with the right types; a known type; unique
ids; every evidence doc is a file in the corpus dir; every quote is a non-empty exact substring
of that file's raw text (decoded as the assistant's loader does, UTF-8 with optional BOM) and
contains no line break; answerable items have >= 1 evidence and >= 1 key fact; every key fact
occurs, case-insensitively with whitespace collapsed, in at least one of the item's quotes;
unanswerable items have no evidence and no key facts.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

TYPES = ("factoid", "numeric", "list", "why/how", "comparison", "unanswerable")
REQUIRED: dict[str, type] = {
    "id": str,
    "question": str,
    "answer": str,
    "evidence": list,
    "type": str,
    "key_facts": list,
}

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = REPO_ROOT / "eval" / "gold_qa.jsonl"
DEFAULT_CORPUS = REPO_ROOT / "corpus"

_WS = re.compile(r"\s+")

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


def normalize(text: str) -> str:
    """Lower-case and collapse runs of whitespace to one space (the key-fact match rule)."""
    return _WS.sub(" ", text).strip().lower()


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


def _read_doc(corpus_dir: Path, doc: str, cache: dict[str, str | None]) -> str | None:
    if doc not in cache:
        p = corpus_dir / doc
        # A doc is a plain file name inside the corpus dir, never a path out of it.
        if Path(doc).name != doc or doc in ("", ".", "..") or not p.is_file():
            cache[doc] = None
        else:
            cache[doc] = p.read_bytes().decode("utf-8-sig", errors="replace")
    return cache[doc]


def validate(path: str | Path = DEFAULT_PATH, corpus_dir: str | Path = DEFAULT_CORPUS) -> list[str]:
    """Check the gold set at ``path`` against the raw files in ``corpus_dir``.

    Returns human-readable problems, one string each; an empty list means the set is valid.
    """
    path, corpus_dir = Path(path), Path(corpus_dir)
    items, problems = load_items(path)
    have_corpus = corpus_dir.is_dir()
    if not have_corpus:
        problems.append(f"{corpus_dir}: corpus directory not found (quotes not checked)")
    docs: dict[str, str | None] = {}
    seen_ids: dict[str, int] = {}
    if not items and not problems:
        problems.append(f"{path}: no items")

    for n, item in items:
        label = f"line {n}"
        iid = item.get("id")
        if isinstance(iid, str) and iid:
            label = f"line {n} ({iid})"
            if iid in seen_ids:
                problems.append(f"{label}: duplicate id '{iid}' (first on line {seen_ids[iid]})")
            else:
                seen_ids[iid] = n

        bad_field = False
        for field, kind in REQUIRED.items():
            if field not in item:
                problems.append(f"{label}: missing field '{field}'")
                bad_field = True
            elif not isinstance(item[field], kind):
                problems.append(
                    f"{label}: field '{field}' must be {kind.__name__}, "
                    f"got {type(item[field]).__name__}"
                )
                bad_field = True
        for field in ("id", "question"):
            if isinstance(item.get(field), str) and not item[field].strip():
                problems.append(f"{label}: field '{field}' is empty")
        if bad_field:
            continue

        qtype = item["type"]
        if qtype not in TYPES:
            problems.append(f"{label}: unknown type '{qtype}' (allowed: {', '.join(TYPES)})")
        answerable = qtype != "unanswerable"
        evidence, key_facts = item["evidence"], item["key_facts"]

        quotes: list[str] = []
        for i, ev in enumerate(evidence):
            where = f"{label} evidence[{i}]"
            if not isinstance(ev, dict):
                problems.append(f"{where}: must be an object with 'doc' and 'quote'")
                continue
            doc, quote = ev.get("doc"), ev.get("quote")
            if not isinstance(doc, str) or not doc:
                problems.append(f"{where}: 'doc' must be a non-empty string")
                continue
            if not isinstance(quote, str) or not quote.strip():
                problems.append(f"{where}: 'quote' must be a non-empty string")
                continue
            quotes.append(quote)
            if "\n" in quote or "\r" in quote:
                problems.append(f"{where}: quote contains a line break")
            if not have_corpus:
                continue
            raw = _read_doc(corpus_dir, doc, docs)
            if raw is None:
                problems.append(f"{where}: doc '{doc}' not found in {corpus_dir}")
            elif quote not in raw:
                short = quote if len(quote) <= 80 else quote[:77] + "..."
                problems.append(f"{where}: quote not found verbatim in {doc}: {short!r}")

        if answerable:
            if not item["answer"].strip():
                problems.append(f"{label}: answerable item has an empty answer")
            if not evidence:
                problems.append(f"{label}: answerable item has no evidence")
            if not key_facts:
                problems.append(f"{label}: answerable item has no key facts")
            norm_quotes = [normalize(q) for q in quotes]
            for k, fact in enumerate(key_facts):
                if not isinstance(fact, str) or not fact.strip():
                    problems.append(f"{label} key_facts[{k}]: must be a non-empty string")
                elif not any(normalize(fact) in q for q in norm_quotes):
                    problems.append(
                        f"{label}: key fact {fact!r} occurs in none of its evidence quotes"
                    )
        else:
            if evidence:
                problems.append(f"{label}: unanswerable item must have no evidence")
            if key_facts:
                problems.append(f"{label}: unanswerable item must have no key facts")
    return problems


def summarize(path: str | Path = DEFAULT_PATH, max_overlap: float = 1 / 3) -> str:
    """One line: item count, counts per type, items citing each doc, paraphrased share.

    Assumes the set parses (call :func:`validate` first).
    """
    items = [obj for _, obj in load_items(Path(path))[0]]
    types = Counter(str(i.get("type")) for i in items)
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
    return (
        f"OK: {len(items)} items; types: {t}; items citing each doc: {d}; "
        f"paraphrased (<= {max_overlap:.0%} of question content words in quotes): "
        f"{low}/{len(overlaps)}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Validate the gold QA set against the corpus.")
    ap.add_argument("path", nargs="?", default=str(DEFAULT_PATH), help="gold set (JSONL)")
    ap.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="corpus directory")
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
