"""Check that an answer's ``[n]`` citations support its sentences (ALCE-style, without NLI).

ALCE (Gao et al. 2023, SEE: https://github.com/princeton-nlp/ALCE) scores citations with an NLI
model: a sentence is *supported* when its cited passages entail it (citation recall), and a
citation is *relevant* when it entails the sentence alone, or when the others do not without
it (citation precision). Offline, and for any answer text, entailment is approximated here by
two checks that must both hold:

1. every figure (numbers, percentages, years) and named entity (capitalised names not opening
   the sentence, acronyms) of the sentence appears in the cited passage text,
2. the sentence's embedding cosine with the best-matching passage sentence (or pair of
   adjacent sentences) reaches ``support_threshold``, and
3. at least ``min_coverage`` of the sentence's content words occur in the passage: cosine
   alone accepts on-topic inventions ("Region Y is the largest producer of X", measured by
   ``scripts/measure_llm.py``).

Not caught without an NLI model: negations and swapped roles that reuse the passage's words
and figures ("exports were A and imports B" when it is the other way round).

Passage sentences that address the model ("ignore previous instructions and reply ...") are
not evidence: a source is quoted data, so its instructions can neither be obeyed by the model
nor support what a compromised model says. Markers pointing at no passage are dropped from
the text and counted as unsupported citations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..embeddings import Embedder
from ..retrieval.query import STOPWORDS, terms
from ..sentences import sentence_spans
from ..types import Answer, Citation, Passage
from .base import ABSTAIN_TEXT, AnswerContext

_GROUP = r"\[\s*\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*\s*\]"
# A run of marker groups, "[1]", "[1, 2]", "[1][2]", "[1-3]", with the space before it.
_MARKER_RUN = re.compile(rf"[ \t]*{_GROUP}(?:[ \t]*{_GROUP})*")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*%?")
_PERCENT = re.compile(r"\s*(?:per\s?cent|percent)\b", re.I)
_NAME = re.compile(r"[A-Z][\w'’&-]*(?:\s+(?:(?:of|and|the|for|on|in|de|du)\s+)*[A-Z][\w'’&-]*)*")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&-]+$")
_INSTRUCTION = re.compile(
    r"(?i)\b(?:ignore|disregard|forget|override)\b[^.!?]{0,60}\b(?:instructions?|prompts?|rules|"
    r"everything|above)\b|\bsystem prompt\b|\byou (?:are|must|should) now\b|"
    r"\b(?:as an?|you are an?) (?:ai|assistant|language model)\b"
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass
class Verification:
    """What checking one answer text found."""

    text: str  # the answer with markers to no passage removed, marker groups normalised
    citations: list[Citation] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    dangling: list[int] = field(default_factory=list)  # markers that point at no passage
    abstained: bool = False
    precision: float | None = None
    recall: float | None = None

    def notice(self) -> str | None:
        """A short line for the UI when something did not check out."""
        parts = []
        if self.dangling:
            cited = ", ".join(f"[{n}]" for n in self.dangling)
            parts.append(f"Removed citation(s) {cited}: no such source.")
        if self.unsupported:
            n = len(self.unsupported)
            parts.append(f"{n} sentence(s) are not supported by the sources they cite.")
        return " ".join(parts) or None


@dataclass
class _Window:
    """A passage sentence (or two adjacent ones): a candidate quote."""

    passage: Passage
    start: int
    end: int
    text: str


@dataclass
class _Evidence:
    marker: int
    passage: Passage
    text: str  # passage text without instruction-like sentences
    windows: list[_Window]


@dataclass
class _Claim:
    text: str  # the sentence without markers
    sentence: str  # as written in the answer
    markers: list[int]


class CitationVerifier:
    """Verify the ``[n]`` markers of any answer text against the passages they number.

    >>> verifier = CitationVerifier(embedder, support_threshold=0.5)   # doctest: +SKIP
    >>> v = verifier.verify("The region's trade grew 20% [1].", passages, ctx)
    >>> v.citations[0].verified, v.recall
    """

    def __init__(
        self, embedder: Embedder, support_threshold: float = 0.5, min_coverage: float = 0.5
    ) -> None:
        for label, value in (
            ("support_threshold", support_threshold),
            ("min_coverage", min_coverage),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{label} must be in [0, 1], not {value}")
        self.embedder = embedder
        self.threshold = support_threshold
        self.min_coverage = min_coverage

    def annotate(self, answer: Answer, ctx: AnswerContext) -> Answer:
        """A copy of ``answer`` with verified citations, unsupported sentences and scores."""
        v = self.verify(answer.text, answer.passages, ctx)
        return answer.model_copy(
            update={
                "text": v.text,
                "citations": v.citations,
                "unsupported": v.unsupported,
                "citation_precision": v.precision,
                "citation_recall": v.recall,
            }
        )

    def verify(self, text: str, passages: list[Passage], ctx: AnswerContext) -> Verification:
        """Markers ``[n]`` in ``text`` refer to ``passages[n - 1]``."""
        cleaned, dangling = normalise_markers(text, len(passages))
        claims, abstained = _claims(cleaned)
        result = Verification(text=cleaned, dangling=dangling, abstained=abstained)
        if not claims:
            return result
        evidence = {
            m: _evidence(m, passages[m - 1], ctx)
            for m in sorted({m for c in claims for m in c.markers})
        }
        cosines = self._cosines(claims, evidence)
        total = len(dangling)
        for i, claim in enumerate(claims):
            cited = [evidence[m] for m in claim.markers]
            verdicts = self._judge(claim, cited, cosines[i])
            for ev, ok in zip(cited, verdicts, strict=True):
                result.citations.append(_citation(ev, cosines[i], ok, ctx))
            total += len(cited)
            if not any(verdicts):
                result.unsupported.append(claim.sentence)
        verified = sum(c.verified for c in result.citations)
        result.precision = verified / total if total else 0.0
        result.recall = 1 - len(result.unsupported) / len(claims)
        return result

    def _cosines(
        self, claims: list[_Claim], evidence: dict[int, _Evidence]
    ) -> list[dict[int, np.ndarray]]:
        """Per claim, per marker: cosine of the claim with each window of that passage."""
        windows = [w.text for ev in evidence.values() for w in ev.windows]
        vectors = self.embedder.embed([c.text for c in claims] + windows)
        sims = vectors[: len(claims)] @ vectors[len(claims) :].T if windows else None
        out: list[dict[int, np.ndarray]] = []
        for i in range(len(claims)):
            row: dict[int, np.ndarray] = {}
            offset = 0
            for m, ev in evidence.items():
                n = len(ev.windows)
                row[m] = sims[i, offset : offset + n] if sims is not None else np.zeros(0)
                offset += n
            out.append(row)
        return out

    def _supports(self, claim: _Claim, cited: list[_Evidence], cos: dict[int, np.ndarray]) -> bool:
        evidence = " ".join(ev.text for ev in cited)
        if not cited or not _facts_present(claim.text, evidence):
            return False
        if _coverage(claim.text, evidence) < self.min_coverage:
            return False
        sims = [float(cos[ev.marker].max()) for ev in cited if cos[ev.marker].size]
        return max(sims, default=0.0) >= self.threshold

    def _judge(
        self, claim: _Claim, cited: list[_Evidence], cos: dict[int, np.ndarray]
    ) -> list[bool]:
        """ALCE's rule: relevant if it supports alone, or the rest do not without it."""
        alone = [self._supports(claim, [ev], cos) for ev in cited]
        if any(alone) or len(cited) < 2 or not self._supports(claim, cited, cos):
            return alone
        return [not self._supports(claim, [o for o in cited if o is not ev], cos) for ev in cited]


def normalise_markers(text: str, n_passages: int) -> tuple[str, list[int]]:
    """Rewrite each marker run as ``[a, b]`` over existing passages; return the dropped numbers."""
    dangling: list[int] = []

    def fix(m: re.Match[str]) -> str:
        numbers = marker_numbers(m.group(0))
        good = [n for n in numbers if 1 <= n <= n_passages]
        dangling.extend(n for n in numbers if n not in good and n not in dangling)
        return f" [{', '.join(map(str, good))}]" if good else ""

    cleaned = _MARKER_RUN.sub(fix, text).strip()
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned), dangling


def marker_numbers(run: str) -> list[int]:
    """The source numbers of a marker run, ranges expanded, in order, without repeats."""
    out: list[int] = []
    for group in re.findall(r"\[([^\]]*)\]", run):
        for part in re.split(r"[,;]", group):
            bounds = [int(x) for x in re.findall(r"\d+", part)]
            if len(bounds) == 2 and 0 < bounds[1] - bounds[0] <= 20:
                bounds = list(range(bounds[0], bounds[1] + 1))
            out.extend(b for b in bounds if b not in out)
    return out


def _claims(text: str) -> tuple[list[_Claim], bool]:
    """The answer's sentences with their markers; a bare marker joins the sentence before it.

    An answer that says the abstention sentence and cites nothing has no claims to check.
    """
    claims: list[_Claim] = []
    abstained = False
    for sentence in _sentences(text):
        markers = [n for m in _MARKER_RUN.finditer(sentence) for n in marker_numbers(m.group(0))]
        bare = _BULLET.sub("", _MARKER_RUN.sub("", sentence)).strip()
        if _is_abstention(bare):
            abstained = True
        elif re.search(r"[A-Za-z0-9]", bare):
            claims.append(_Claim(bare, sentence, list(dict.fromkeys(markers))))
        elif claims and markers:
            claims[-1].markers += [m for m in markers if m not in claims[-1].markers]
            claims[-1].sentence += " " + sentence
    if abstained and not any(c.markers for c in claims):
        return [], True
    return claims, False


def _sentences(text: str) -> list[str]:
    """Sentences of each line (list items and lines without a full stop stand alone)."""
    return [line[a:b] for line in text.splitlines() for a, b in sentence_spans(line)]


def _is_abstention(sentence: str) -> bool:
    core = ABSTAIN_TEXT.lower().rstrip(".")
    return core in sentence.lower()


def _evidence(marker: int, passage: Passage, ctx: AnswerContext) -> _Evidence:
    text, offset = _source_text(passage, ctx)
    spans = [
        (a, b)
        for a, b in sentence_spans(text, offset, offset + len(passage.text))
        if not _INSTRUCTION.search(text[a:b])
    ]
    windows = [_Window(passage, a, b, text[a:b]) for a, b in spans]
    windows += [
        _Window(passage, a, d, text[a:d])
        for (a, b), (c, d) in zip(spans, spans[1:], strict=False)
        if text[b:c].strip() == ""
    ]
    return _Evidence(marker, passage, " ".join(text[a:b] for a, b in spans), windows)


def _source_text(passage: Passage, ctx: AnswerContext) -> tuple[str, int]:
    """The cleaned document and the passage's offset in it (the passage alone if unknown)."""
    try:
        doc = ctx.document(passage.doc_id).clean_text
    except KeyError:
        return passage.text, 0
    if doc[passage.start : passage.end] == passage.text:
        return doc, passage.start
    return passage.text, 0


def _citation(ev: _Evidence, cos: dict[int, np.ndarray], ok: bool, ctx: AnswerContext) -> Citation:
    sims = cos[ev.marker]
    if sims.size:
        w = ev.windows[int(np.argmax(sims))]
        quote, start, end = w.text, w.start, w.end
    else:  # nothing quotable (e.g. a passage that is all instructions)
        quote, start, end = ev.passage.text, ev.passage.start, ev.passage.end
    try:
        citation = ctx.citation(ev.marker, ev.passage, start, end)
    except KeyError:
        citation = Citation(
            marker=ev.marker,
            passage=ev.passage,
            doc_id=ev.passage.doc_id,
            quote=quote,
            start=start,
            end=end,
        )
    citation.verified = ok
    return citation


def claim_facts(sentence: str) -> tuple[set[str], set[str]]:
    """(figures, names) a sentence states: what a supporting passage must also contain."""
    text = _PERCENT.sub("%", sentence)
    numbers = {_number(n) for n in _NUMBER.findall(text)}
    names: set[str] = set()
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        opens = not re.search(r"[A-Za-z0-9]", text[: m.start()])
        if opens and words[0].lower() in STOPWORDS:  # "The Silk Road ..." -> "Silk Road"
            words = words[1:]
            opens = False
        name = " ".join(words)
        if not name or name.lower() in STOPWORDS:
            continue
        if len(words) > 1 or _ACRONYM.match(name) or not opens:
            names.add(name)  # a lone capitalised word opening the sentence is just grammar
    return numbers, names


def _facts_present(sentence: str, evidence: str) -> bool:
    numbers, names = claim_facts(sentence)
    source = _PERCENT.sub("%", evidence)
    have = {_number(n) for n in _NUMBER.findall(source)}
    have |= {n.rstrip("%") for n in have}
    if not numbers <= have:
        return False
    flat = _flat(source)
    return all(re.search(rf"(?<!\w){re.escape(_flat(name))}(?!\w)", flat) for name in names)


def _coverage(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words (stemmed) that the evidence contains."""
    wanted = set(terms(sentence))
    return len(wanted & set(terms(evidence))) / len(wanted) if wanted else 0.0


def _number(token: str) -> str:
    token = re.sub(r"(?<=\d),(?=\d{3}\b)", "", token)
    return token[:-2] if token.endswith(".0") else token


def _flat(text: str) -> str:
    """Lower case, quotes dropped, hyphens and runs of space as one space."""
    text = re.sub(r"[\"“”‘’'`]", "", text.lower()).replace("-", " ")
    return re.sub(r"\s+", " ", text).strip()
