"""Does a sentence hold the kind of answer a question wants, about the thing it asks?

A question of a factual kind (who, when, how many, how much money, what share...) is answerable
from a sentence only when the sentence holds a span of that kind (spaCy entity types, with a
few unit patterns for figures) and is tied to the question's focus: the figures the question
names, the unit it counts, and most of its focus words. Answers then quote the clause around
that span rather than a whole run-on sentence; a clause is an exact substring, so offsets hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..nlp import entities
from ..retrieval.query import QuestionInfo, terms

# spaCy labels that answer each kind of question.
LABELS: dict[str, frozenset[str]] = {
    "person": frozenset({"PERSON"}),
    "organisation": frozenset({"ORG"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "date": frozenset({"DATE"}),
    "count": frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    "money": frozenset({"MONEY"}),
    "percent": frozenset({"PERCENT"}),
}
# Figures spaCy may miss or mislabel, as generic English patterns.
_PATTERNS: dict[str, re.Pattern[str]] = {
    # a year, not one end of a range ("2017-2022" answers no "which year")
    "date": re.compile(
        r"(?<!\d[-–])(?<!\d\s[-–]\s)\b(?:1[6-9]|20)\d{2}s?\b(?!\s?[-–]\s?(?:1[6-9]|20)\d{2})"
    ),
    "count": re.compile(
        r"(?<![\w.\[])\d[\d,.]*\b(?!\])|(?i:\b(?:one|two|three|four|five|six|seven|eight|nine|"
        r"ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds?|thousands?|dozens?)\b)"
    ),
    "money": re.compile(
        r"(?i)(?:[$€£¥]\s?\d[\d,.]*|\d[\d,.]*\s*(?:(?:hundred|thousand|million|billion|trillion)"
        r"\s+)?(?:yuan|rmb|dollars?|usd|euros?|pounds?|yen))"
    ),
    "percent": re.compile(
        r"(?i)\d[\d.,]*\s?(?:%|per ?cent\b|percentage points?)|\b\d+\s?/\s?\d+\b|"
        r"\b(?:half|a third|one third|a quarter|one quarter|two thirds)\b"
    ),
}
_NAMES = frozenset({"person", "organisation", "place"})
_YEAR = re.compile(r"^(?:1[6-9]|20)\d{2}$")
_CLAUSE_BREAK = re.compile(r"(?:[;:]|,(?=\s)|\s[–—]\s)")


@dataclass(frozen=True)
class TypedSpan:
    start: int  # offsets in the sentence
    end: int
    label: str


def typed_spans(sentence: str, kind: str) -> list[TypedSpan]:
    """Spans of ``sentence`` that are answers of ``kind`` (empty for non-factual kinds).

    Figures (dates, counts, percentages, money) are found by their surface form; names need
    the tagger (PERSON vs ORG vs GPE), which also confirms money amounts the patterns miss.
    spaCy runs only here, on the few sentences already tied to the question's focus.
    """
    if kind not in LABELS:
        return []
    out: list[TypedSpan] = []
    pattern = _PATTERNS.get(kind)
    if pattern is not None:
        out = [
            TypedSpan(m.start(), m.end(), "PATTERN")
            for m in pattern.finditer(sentence)
            if not (kind == "count" and _YEAR.match(m.group(0)))
        ]
    if not out and (kind in _NAMES or kind == "money"):
        out = [
            TypedSpan(e.start, e.end, e.label)
            for e in entities(sentence)
            if e.label in LABELS[kind]
        ]
    return sorted(out, key=lambda s: s.start)


def question_figures(question: str) -> list[str]:
    """Years and other figures the question names: an answer must state them too."""
    return re.findall(r"(?<![Ss]ection )\b\d[\d,.]*\d\b|\b\d\b(?=\s*%)", question)


def tied_to_focus(
    info: QuestionInfo,
    sentence: str,
    context: str,
    min_share: float,
    expansions: Mapping[str, str] | None = None,
) -> bool:
    """Is ``sentence`` about what the question asks (its figures, unit and focus words)?

    ``context``: the sentence with its neighbours, where a figure or unit may sit; the focus
    words must be in the sentence itself. The unit a count asks for ("trains") counts as two
    focus words: papers say "trips" for "runs", so it weighs the decision without vetoing it.
    A focus of two words needs both ("the mayor of <city>").
    """
    if any(f not in context for f in question_figures(info.text)):
        return False
    words = _words(sentence, expansions)
    near = _words(context, expansions)
    focus = [t for t in info.focus if not t[0].isdigit()]
    if not focus and not info.unit:
        return True
    hits = sum(t in words for t in focus)
    if info.unit:
        focus += [info.unit, info.unit]
        hits += 2 * (info.unit in near)
    share = hits / len(focus)
    return share >= min_share and (len(focus) != 2 or share == 1.0)


def _words(text: str, expansions: Mapping[str, str] | None) -> set[str]:
    """Stemmed terms of ``text``, hyphenated compounds also as their parts."""
    return set(terms(text.replace("-", " "), expansions)) | set(terms(text, expansions))


def clause_window(
    sentence: str,
    anchor: tuple[int, int] | None,
    focus: set[str],
    max_words: int,
    min_words: int = 20,
) -> tuple[int, int]:
    """(start, end) in ``sentence`` of the clauses around ``anchor`` (a typed span), grown
    towards the clauses holding focus words, at most ``max_words`` long; the whole sentence
    when it is short enough."""
    if len(sentence.split()) <= max_words:
        return 0, len(sentence)
    bounds = [0]
    for m in _CLAUSE_BREAK.finditer(sentence):
        if not _inside_number(sentence, m.start()) and not _nested(sentence, m.start()):
            bounds.append(m.end())
    bounds.append(len(sentence))
    clauses = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    if not clauses:
        return 0, len(sentence)
    scores = [len(focus & set(terms(sentence[a:b]))) for a, b in clauses]
    if anchor is not None:
        centre = next((i for i, (a, b) in enumerate(clauses) if a <= anchor[0] < b), 0)
    else:
        centre = max(range(len(clauses)), key=lambda i: (scores[i], -i))
    lo = hi = centre

    def words(i: int, j: int) -> int:
        return len(sentence[clauses[i][0] : clauses[j][1]].split())

    while True:
        options = []
        if lo > 0 and words(lo - 1, hi) <= max_words:
            options.append((scores[lo - 1] + 0.5, lo - 1, hi))  # context before reads better
        if hi < len(clauses) - 1 and words(lo, hi + 1) <= max_words:
            options.append((scores[hi + 1], lo, hi + 1))
        if not options or (words(lo, hi) >= min_words and max(o[0] for o in options) < 1):
            break
        _, lo, hi = max(options)
    a, b = clauses[lo][0], clauses[hi][1]
    return _trim(sentence, a, b)


def _nested(text: str, pos: int) -> bool:
    """Is ``pos`` inside brackets or quotation marks (not a clause boundary)?"""
    before = text[:pos]
    if before.count("(") > before.count(")") or before.count("“") > before.count("”"):
        return True
    return before.count('"') % 2 == 1


def _inside_number(text: str, pos: int) -> bool:
    return 0 < pos < len(text) - 1 and text[pos - 1].isdigit() and text[pos + 1].isdigit()


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and (text[a].isspace() or text[a] in ",;:"):
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] in ",;:"):
        b -= 1
    return a, b
