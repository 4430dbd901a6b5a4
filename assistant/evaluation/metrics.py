"""Scoring for the eval: evidence matching, ranking (ranx), answers, citations, abstention, latency.

Pure functions on plain values, so each can be tested on a hand-made case. Gold quotes are exact
substrings of the RAW papers while passages come from the CLEANED text, so both sides go
through :func:`normalise` (whitespace, line-break hyphenation, case, curly quotes) before they
are compared.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz

from ..textnorm import normalise

RANK_KS = (1, 3, 5, 10)
FUZZY_MIN = 90.0  # rapidfuzz partial_ratio at which a quote counts as found
COVERAGE_MIN = 0.6  # share of a quote's tokens found in order, in runs of >= _RUN tokens
FUZZY_MIN_CHARS = 30  # shorter quotes must match exactly: fuzzy matches on them are noise
_RUN = 3
_MARKER = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | {"“", "”", "‘", "’", "–", "—"}


# -- normalisation ---------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    """Word tokens of the normalised text (punctuation and hyphens split words)."""
    return re.findall(r"\w+", normalise(text))


def strip_markers(text: str) -> str:
    """Answer text without its ``[n]`` citation markers."""
    return _MARKER.sub("", text)


# -- evidence matching -----------------------------------------------------------------


def quote_found(quote: str, passage: str) -> bool:
    """Does ``passage`` hold the gold ``quote``, or most of it (a quote may straddle chunks)?"""
    q, p = normalise(quote), normalise(passage)
    if not q:
        return False
    if q in p:
        return True
    if len(q) < FUZZY_MIN_CHARS:
        return False
    if fuzz.partial_ratio(q, p) >= FUZZY_MIN:
        return True
    return token_coverage(q, p) >= COVERAGE_MIN


def token_coverage(quote: str, passage: str) -> float:
    """Share of the quote's tokens found in ``passage`` in order, in runs of >= 3 tokens."""
    qt, pt = tokens(quote), tokens(passage)
    if not qt:
        return 0.0
    blocks = SequenceMatcher(None, qt, pt, autojunk=False).get_matching_blocks()
    run = min(_RUN, len(qt))
    return sum(b.size for b in blocks if b.size >= run) / len(qt)


def quotes_overlap(a: str, b: str) -> bool:
    """Do two quotes share a substantial stretch of text (either way round)?"""
    short, long_ = sorted((a, b), key=lambda s: len(normalise(s)))
    return quote_found(short, long_) or token_coverage(long_, short) >= COVERAGE_MIN


@dataclass(frozen=True)
class Evidence:
    doc: str
    quote: str


class DocLinks:
    """Which corpus files count as the same source: aliases (renderings) and versions.

    Evidence citing an alias (000) is found in its canonical copy (001); a passage whose
    ``versions`` lists another file (004 holding 002's text) counts for that file too.
    """

    def __init__(self, alias_of: Mapping[str, str | None] | None = None) -> None:
        self._canon = {a: c for a, c in (alias_of or {}).items() if c}

    def canonical(self, doc_id: str) -> str:
        return self._canon.get(doc_id, doc_id)

    def sources(self, doc_id: str, versions: Iterable[str] = ()) -> set[str]:
        return {self.canonical(d) for d in (doc_id, *versions)}


def matched_evidence(
    evidence: Sequence[Evidence],
    passage_text: str,
    passage_doc: str,
    versions: Iterable[str] = (),
    links: DocLinks | None = None,
) -> list[int]:
    """Indexes of the evidence quotes this passage holds (same source and the quote found)."""
    links = links or DocLinks()
    sources = links.sources(passage_doc, versions)
    return [
        i
        for i, ev in enumerate(evidence)
        if links.canonical(ev.doc) in sources and quote_found(ev.quote, passage_text)
    ]


def evidence_ranks(matches: Sequence[Sequence[int]], n_evidence: int) -> list[int | None]:
    """1-based rank of the first passage holding each evidence quote (None: not retrieved)."""
    ranks: list[int | None] = [None] * n_evidence
    for rank, found in enumerate(matches, start=1):
        for i in found:
            if ranks[i] is None:
                ranks[i] = rank
    return ranks


FALLBACK_COVERAGE = 0.4  # a quote no chunk holds is split: chunks with its largest share count


@dataclass
class EvidenceUnits:
    """An item's evidence as units of relevance over an index's chunks.

    ``holders[i]`` are the chunk ids holding quote i. A quote split across two chunks (no chunk
    holds 60%) is held by the chunks with its largest share (>= 40%). Quotes that share a
    holder form one unit: a chunk then holds at most one unit, so ranx sees one relevant
    "document" per unit and overlapping chunks are not counted twice.
    """

    holders: list[set[str]]
    unit_of: list[int]
    n_units: int

    @property
    def unindexed(self) -> list[int]:
        """Quotes no chunk holds (e.g. from a reference list, which is not indexed)."""
        return [i for i, h in enumerate(self.holders) if not h]


def evidence_units(
    evidence: Sequence[Evidence],
    chunks: Iterable[tuple[str, str, str]],
    links: DocLinks | None = None,
) -> EvidenceUnits:
    """Locate each quote in ``chunks`` ((chunk_id, doc_id, text)) and group quotes into units."""
    links = links or DocLinks()
    wanted = {links.canonical(ev.doc) for ev in evidence}
    pool = [(cid, links.canonical(doc), text) for cid, doc, text in chunks]
    pool = [c for c in pool if c[1] in wanted]
    holders = [_holders(ev, pool, links) for ev in evidence]
    parent = list(range(len(evidence)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(evidence)):
        for j in range(i):
            if holders[i] & holders[j]:
                parent[root(i)] = root(j)
    roots = {r: n for n, r in enumerate(dict.fromkeys(root(i) for i in range(len(evidence))))}
    return EvidenceUnits(holders, [roots[root(i)] for i in range(len(evidence))], len(roots))


def _holders(ev: Evidence, pool: list[tuple[str, str, str]], links: DocLinks) -> set[str]:
    same = [(cid, text) for cid, doc, text in pool if doc == links.canonical(ev.doc)]
    found = {cid for cid, text in same if quote_found(ev.quote, text)}
    if found or len(normalise(ev.quote)) < FUZZY_MIN_CHARS:
        return found
    shares = {cid: token_coverage(ev.quote, text) for cid, text in same}
    best = max(shares.values(), default=0.0)
    return {cid for cid, share in shares.items() if share >= max(best, FALLBACK_COVERAGE)}


def units_held(
    units: EvidenceUnits,
    evidence: Sequence[Evidence],
    passage_id: str,
    passage_text: str,
    passage_doc: str,
    versions: Iterable[str] = (),
    links: DocLinks | None = None,
) -> tuple[list[int], list[int]]:
    """(quotes, units) a retrieved passage holds: by chunk id, or by text for another version."""
    versions = list(versions)
    by_text = (
        matched_evidence(evidence, passage_text, passage_doc, versions, links) if versions else []
    )
    quotes = sorted({i for i, h in enumerate(units.holders) if passage_id in h} | set(by_text))
    return quotes, sorted({units.unit_of[i] for i in quotes})


# -- ranking (ranx) --------------------------------------------------------------------


def ranked_run(matches: Sequence[Sequence[int]]) -> dict[str, float]:
    """A ranx run for one item whose relevant "documents" are its evidence units ``u0, u1..``.

    ``matches[r]`` are the units the passage at rank r holds. Relevance is per unit, not per
    chunk: overlapping chunks hold the same quote, and finding it once is enough. A passage
    holding a new unit stands in for it; any other passage is a miss. Scores fall with rank
    so ranx keeps our order.
    """
    run: dict[str, float] = {}
    seen: set[int] = set()
    position = 0
    for rank, found in enumerate(matches):
        fresh = [i for i in found if i not in seen]
        seen.update(fresh)
        for doc in [f"u{i}" for i in fresh] or [f"miss{rank}"]:
            run[doc] = float(10_000 - position)
            position += 1
    return run


def ranking_metrics(
    qrels: Mapping[str, Mapping[str, int]],
    runs: Mapping[str, Mapping[str, float]],
    ks: Sequence[int] = RANK_KS,
    depth: int = 10,
) -> dict[str, dict[str, float]]:
    """Recall@k, MRR@depth and nDCG@depth per query, computed by ranx."""
    from ranx import Qrels, Run, evaluate

    names = [f"recall@{k}" for k in ks] + [f"mrr@{depth}", f"ndcg@{depth}"]
    qrels = {q: dict(r) for q, r in qrels.items() if r}
    if not qrels:
        return {}
    kept = {q: dict(r) for q, r in runs.items() if q in qrels and r}
    if not kept:  # ranx refuses an empty run: nothing retrieved scores 0 everywhere
        return {q: dict.fromkeys(names, 0.0) for q in qrels}
    run = Run(kept)
    evaluate(Qrels(qrels), run, names, make_comparable=True)
    return {q: {m: float(run.scores[m].get(q, 0.0)) for m in names} for q in qrels}


# -- answers ---------------------------------------------------------------------------


def key_fact_recall(key_facts: Sequence[str], answer: str) -> float | None:
    """Share of the key facts the answer states word for word (normalised, stemmed)."""
    if not key_facts:
        return None
    return 1 - len(missing_facts(key_facts, answer)) / len(key_facts)


def missing_facts(key_facts: Sequence[str], answer: str) -> list[str]:
    """The key facts the answer does not state ("financial risks" is stated by "Financial risk")."""
    text = f" {' '.join(_stems(strip_markers(answer)))} "
    return [f for f in key_facts if f" {' '.join(_stems(f))} " not in text]


def first_citation_key_fact_recall(
    key_facts: Sequence[str], citations: Sequence[tuple[int, str]]
) -> float | None:
    """Share of the key facts the answer's FIRST citation marker quotes (issue 22).

    ``citations`` are (marker, quote) in the answer's order. Every citation carrying the first
    one's marker counts (a marker may cite several sentences), their quotes joined; the rest of
    the answer does not. 0 without citations (an abstention), None without key facts.
    """
    if not key_facts:
        return None
    if not citations:
        return 0.0
    first = citations[0][0]
    return key_fact_recall(key_facts, " ".join(q for marker, q in citations if marker == first))


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def _stems(text: str) -> list[str]:
    return list(_stemmer().stemWords(tokens(text)))


def squad_tokens(text: str) -> list[str]:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = unicodedata.normalize("NFKC", strip_markers(text)).lower()
    text = "".join(ch if ch not in _PUNCT else " " for ch in text)
    return _ARTICLES.sub(" ", text).split()
    # SEE: https://github.com/rajpurkar/SQuAD-explorer (evaluate-v2.0.py, f1 and normalize_answer)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 of an answer against the reference answer."""
    pred, ref = squad_tokens(prediction), squad_tokens(reference)
    common = Counter(pred) & Counter(ref)
    overlap = sum(common.values())
    if not pred or not ref or overlap == 0:
        return float(pred == ref)
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


# -- citations (ALCE-style, lexical) -----------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One answer sentence (or list line) and the markers attached to it."""

    text: str
    markers: tuple[int, ...]


def statements(answer: str) -> list[Statement]:
    """Split an answer into claims at its markers; intro lines ending in ':' are not claims."""
    out: list[Statement] = []
    for line in answer.splitlines():
        pos = 0
        for m in re.finditer(r"(?:\s*\[(\d+)\])+", line):
            text = line[pos : m.start()].strip(" -•*")
            markers = tuple(int(n) for n in re.findall(r"\[(\d+)\]", m.group()))
            if text:
                out.append(Statement(text, markers))
            pos = m.end()
        rest = line[pos:].strip(" -•*")
        if tokens(rest) and not rest.endswith(":"):
            out.append(Statement(rest, ()))
    return out


def supports(quote: str, claim: str) -> bool:
    """Lexical stand-in for NLI: the quote holds most of the claim's words in order."""
    if normalise(strip_markers(claim)) in normalise(quote):
        return True
    return token_coverage(strip_markers(claim), quote) >= 0.5 or quotes_overlap(quote, claim)


def relevant_quote(quote: str, evidence: Sequence[Evidence], key_facts: Sequence[str]) -> bool:
    """A quote is on target when it overlaps a gold evidence quote or states a key fact."""
    if any(quotes_overlap(quote, ev.quote) for ev in evidence):
        return True
    return bool(key_facts) and key_fact_recall(key_facts, quote) not in (None, 0.0)


def citation_scores(
    answer: str,
    quotes_by_marker: Mapping[int, Sequence[str]],
    evidence: Sequence[Evidence],
    key_facts: Sequence[str],
) -> tuple[float | None, float | None]:
    """(precision, recall) of an answer's citations, after ALCE (Gao et al. 2023).

    A marker supports its claim when one of its quotes holds the claim and is on target (see
    :func:`relevant_quote`). Precision: supporting markers / markers; recall: claims with a
    supporting marker / claims. None when the answer makes no claims.
    SEE: https://github.com/princeton-nlp/ALCE (eval.py, compute_autoais)
    """
    claims = statements(answer)
    if not claims:
        return None, None
    markers = supported = claims_ok = 0
    for claim in claims:
        good = [
            any(
                supports(q, claim.text) and relevant_quote(q, evidence, key_facts)
                for q in quotes_by_marker.get(m, ())
            )
            for m in claim.markers
        ]
        markers += len(good)
        supported += sum(good)
        claims_ok += any(good)
    return (supported / markers if markers else 0.0), claims_ok / len(claims)


# -- abstention, latency, aggregation --------------------------------------------------


def abstention_scores(
    answerable: Sequence[bool], abstained: Sequence[bool]
) -> dict[str, float | None]:
    """Accuracy on unanswerable items, false-abstention rate on answerable ones, their balance."""
    pairs = list(zip(answerable, abstained, strict=True))
    unans = [a for ok, a in pairs if not ok]
    ans = [a for ok, a in pairs if ok]
    accuracy = sum(unans) / len(unans) if unans else None
    false_rate = sum(ans) / len(ans) if ans else None
    balanced = None
    if accuracy is not None and false_rate is not None:
        balanced = (accuracy + 1 - false_rate) / 2
    return {
        "abstention_accuracy": accuracy,
        "false_abstention_rate": false_rate,
        "balanced_abstention_accuracy": balanced,
    }


def median(values: Iterable[float | None]) -> float | None:
    """Median of the defined values (None when there are none)."""
    kept = [float(v) for v in values if v is not None]
    return float(np.median(kept)) if kept else None


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values (None = not applicable to that item)."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def harmonic_mean(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b > 0 else 0.0


def auroc(positives: Sequence[float | None], negatives: Sequence[float | None]) -> float | None:
    """P(a random positive scores above a random negative); None scores rank lowest, ties 1/2."""
    if not positives or not negatives:
        return None
    low = float("-inf")
    pos = [low if p is None else p for p in positives]
    neg = [low if n is None else n for n in negatives]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))
