"""Overview questions: what a paper (or every paper) is about, and what it concludes.

"What are these papers about?", "Summarise <author>'s paper", "What does the revised version
conclude?" ask about a paper as a whole, so no body sentence retrieved for its words answers
them. They are answered from where a paper says so itself: its abstract (else the opening of
its introduction) for what it is about, its conclusion section (else its last body section) for
what it concludes. Each quote is whole sentences of the cleaned text, cited with exact offsets.

Which papers: those the question names by author (catalog or title block), by version word
("the revised version" -> the paper the catalog marks "revised") or by title words (an
abbreviation counts when its letters are the initials of a run of title words); a question
naming none ("these papers", "the paper") gets every indexed paper, duplicates left out.

``wants_overview`` (``retrieval/overview_cues.py``, re-exported here) recognises the question
from its English wording alone (the question plan records it); ``overview_answer`` returns None
when a question names a paper it cannot find, or no paper has the part asked for, so the caller
answers it the ordinary way::

    overview = overview_answer(question, wants_overview(question), passages, ctx, self.name)
    if overview is not None:
        return overview
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..retrieval.overview_cues import OverviewKind
from ..retrieval.overview_cues import wants_overview as wants_overview  # re-exported
from ..retrieval.paper_hints import PaperNames
from ..retrieval.query import terms
from ..sentences import sentence_spans
from ..store import DocRecord
from ..types import Answer, Citation, Passage
from .base import AnswerContext

MAX_PAPERS = 6  # an overview of more papers than this lists the first ones and says so
MAX_WORDS = 110  # quoted words per paper (a first sentence longer than this is kept whole)
_MIN_WORDS = 6  # shorter "sentences" are headings, numbers or splitter fragments
_TITLE_SCAN = 200  # papers whose abstracts are searched for the words naming a paper

# -- which papers ------------------------------------------------------------------------

_VERSION_WORDS: dict[str, tuple[str, ...]] = {
    "revised": ("revised", "later", "updated", "newer", "latest", "second", "new", "final"),
    "earlier": ("earlier", "original", "first", "older", "initial", "previous", "old", "prior"),
}
_VERSION_NOUN = r"(?:version|draft|edition|paper|one|text|manuscript|article|rendering)s?"
_BARE_VERSION = ("revised", "updated", "earlier", "original")
# Words of an overview question that name no paper: what is asked for, not which paper.
_CUE_WORDS = """summarise summarize summarised summary summaries summarisation summarization
overview overviews gist synopsis abstract argument arguments point points idea ideas thesis
message messages contribution contributions topic topics subject subjects theme themes purpose
aim aims goal goals objective objectives focus research question questions problem content
contents scope premise rundown tldr conclude concludes concluded conclusion conclusions finding
findings find finds found result results takeaway takeaways take-away outcome outcomes lesson
lessons learned learnt bottom line verdict remark remarks implication implications central core
principal primary basic big major overall general important final concluding closing brief short
quick high-level level one-line concise simple cover covers discuss discusses deal address
addresses study studies examine examines investigate investigates argue argues claim claims talk
explore analyse analyze sum outline recap introduce characterise characterize review present
digest condense show shows showed demonstrate demonstrates discover end ends ended wrap close
draw reach make come arrive offer report provide state write written stated said saying arguing
claiming trying try want set out please me us can could would will know see get wonder wondering
like version versions draft drafts edition editions document documents doc docs text texts
publication publications manuscript manuscripts corpus collection file files pdf pdfs article
work works authors author researcher researchers writer writers everything one ones two three four
five six seven eight nine ten several indexed uploaded loaded available here there bundled
titled called named sentence sentences line lines word words paragraph paragraphs bullet
nutshell plain english language briefly quickly mainly mostly really actually generally broadly
basically section whole""".split()


@dataclass(frozen=True)
class _Choice:
    docs: list[DocRecord]
    total: int  # papers that fit before the cap
    named: bool  # the question named these papers (by author, version or title)


def overview_papers(question: str, ctx: AnswerContext) -> list[DocRecord] | None:
    """The papers an overview question is about (at most ``MAX_PAPERS``), or None when it
    names a paper that is not indexed."""
    choice = _choose(question, ctx)
    return None if choice is None else choice.docs


def _choose(question: str, ctx: AnswerContext) -> _Choice | None:
    indexed = sorted(
        (d for d in ctx.snapshot.documents.values() if d.alias_of is None),
        key=lambda d: d.doc_id,
    )
    hint = ctx.paper_names().named(question)
    if not hint.docs and re.search(r"\b[A-Z]", question[1:]):  # names are capitalised
        hint = _title_block_names(ctx).named(question)
    versions = _versions_wanted(question)
    topic = _topic_terms(hint.query)
    if hint.docs:
        chosen = [d for d in indexed if d.doc_id in hint.docs]
    elif topic:
        chosen = _by_title(question, topic, indexed, ctx)
        if not chosen:
            return None  # it names a paper by words no paper's title or abstract has
    elif versions:
        chosen = [d for d in indexed if _is_version(d, versions)]
        if not chosen:
            return None
        return _Choice(chosen[:MAX_PAPERS], len(chosen), True)
    else:
        return _Choice(indexed[:MAX_PAPERS], len(indexed), False)
    if versions:
        chosen = [d for d in chosen if _is_version(d, versions)] or chosen
    return _Choice(chosen[:MAX_PAPERS], len(chosen), True)


# Author names from each paper's own title block (uploads have no catalog entry), per context.
_TITLE_BLOCK_NAMES: weakref.WeakKeyDictionary[AnswerContext, PaperNames] = (
    weakref.WeakKeyDictionary()
)


def _title_block_names(ctx: AnswerContext) -> PaperNames:
    names = _TITLE_BLOCK_NAMES.get(ctx)
    if names is None:
        docs = [d for d in ctx.snapshot.documents.values() if d.alias_of is None]
        names = PaperNames(docs, {d.doc_id: ctx.front.authors(d.doc_id) for d in docs})
        _TITLE_BLOCK_NAMES[ctx] = names
    return names


def _versions_wanted(question: str) -> set[str]:
    wanted: set[str] = set()
    for canonical, words in _VERSION_WORDS.items():
        alternatives = "|".join(words)
        if re.search(rf"(?i)\b(?:{alternatives})\s+{_VERSION_NOUN}\b", question):
            wanted.add(canonical)
        elif any(re.search(rf"(?i)\b{w}\b", question) for w in words if w in _BARE_VERSION):
            wanted.add(canonical)
    return wanted


def _is_version(doc: DocRecord, wanted: set[str]) -> bool:
    label = (doc.version or "").lower()
    return bool(label) and any(
        label == key or label in _VERSION_WORDS.get(key, ()) for key in wanted
    )


def _topic_terms(query: str) -> set[str]:
    """The question's words that could name a paper: content words, less overview cues."""
    cues = _cue_terms()
    return {t for t in terms(query) if t not in cues and not t[0].isdigit()}


@functools.lru_cache(maxsize=1)
def _cue_terms() -> frozenset[str]:
    versions = [w for words in _VERSION_WORDS.values() for w in words]
    return frozenset(terms(" ".join(_CUE_WORDS + versions)))


def _by_title(
    question: str, topic: set[str], docs: list[DocRecord], ctx: AnswerContext
) -> list[DocRecord]:
    """The papers whose titles (else abstracts and keywords) hold most of ``topic``."""
    acronyms = {
        a.rstrip("s") for a in re.findall(r"\b[A-Z][A-Z&]{1,5}s?\b", question) if len(a) >= 3
    }
    acronym_terms = {t for a in acronyms for t in terms(a)}
    best = _best(
        topic, docs, lambda d: set(terms(d.title)) | _acronyms_of(d.title, acronyms, acronym_terms)
    )
    if best or len(docs) > _TITLE_SCAN:
        return best

    def described(doc: DocRecord) -> set[str]:
        fields = ctx.front_matter(doc.doc_id)
        text = " ".join(
            [doc.title] + [f.text for f in fields if f.kind in ("abstract", "keywords")]
        )
        return set(terms(text))

    return _best(topic, docs, described)


def _acronyms_of(title: str, acronyms: set[str], acronym_terms: set[str]) -> set[str]:
    """The question's acronyms that spell a run of the title's word initials ("NLP" in
    "... Natural Language Processing ..."), as the terms they are in the question."""
    words = [w for w in re.findall(r"[A-Za-z][\w\-]*", title) if w.lower() not in _SMALL_WORDS]
    initials = "".join(w[0].upper() for w in words)
    found = {a for a in acronyms if a.replace("&", "") in initials}
    return {t for a in found for t in terms(a)} & acronym_terms


_SMALL_WORDS = {"a", "an", "and", "the", "of", "on", "in", "for", "to", "under", "with", "by"}


def _best(
    topic: set[str], docs: Iterable[DocRecord], words_of: Callable[[DocRecord], set[str]]
) -> list[DocRecord]:
    scored = [(len(topic & words_of(d)), d) for d in docs]
    top = max((s for s, _ in scored), default=0)
    if top == 0 or top < 0.5 * len(topic):
        return []
    return [d for s, d in scored if s == top]


# -- what each paper says ------------------------------------------------------------------

_CONCLUSION_TITLE = re.compile(r"(?i)\bconclu\w*|\bconcluding\b")
_SUMMARY_TITLE = re.compile(r"(?i)\bsummary\b|\b(?:closing|final) remarks\b")
_INTRO_TITLE = re.compile(r"(?i)\b(?:introduction|background|overview)\b")
_NOT_BODY = re.compile(
    r"(?i)^\W*(?:\d+(?:\.\d+)*\.?\s*)?(?:abstract|key ?words?|references?|bibliography|"
    r"acknowledge?ments?|funding|appendi(?:x|ces)|about the authors?|author contributions?|"
    r"conflicts? of interest|declarations?|data availability|notes?)\b"
)
# A sentence saying what the paper does ("This paper first analyses ..."), worth quoting next
# to the abstract's first sentence, which often only sets the scene.
_AIM = re.compile(
    r"(?i)\b(?:this|the present|our|the) (?:paper|article|study|research|work|thesis)\b|"
    r"\bwe (?:\w+ )?(?:analy[sz]e|propose|study|examine|investigate|argue|show|find|present|"
    r"explore|discuss|develop)|\baims? (?:to|at)\b|\bpurpose\b"
)
# A sentence that draws the conclusion: a finding, a recommendation, a summing-up.
_VERDICT = re.compile(
    r"(?i)\b(?:should|must|need(?:s)? to|it is (?:essential|necessary|important)|therefore|"
    r"thus|hence|in conclusion|to sum up|in summary|in short|overall|we (?:find|found|conclude)|"
    r"(?:results?|findings?) (?:show|suggest|indicate)|it is concluded)\b"
)


@dataclass(frozen=True)
class _Part:
    label: str  # where the quotes come from: "abstract", "introduction", "conclusion"...
    spans: list[tuple[int, int]]


def overview_answer(
    question: str,
    kind: OverviewKind | None,
    passages: list[Passage],
    ctx: AnswerContext,
    answerer: str,
) -> Answer | None:
    """Answer an overview question from each paper's abstract (``"summary"``) or conclusion
    (``"conclusion"``), quoting whole sentences with exact-offset citations; None when ``kind``
    is None, the question names a paper that is not indexed, or no paper has that part."""
    if kind is None:
        return None
    choice = _choose(question, ctx)
    if choice is None:
        return None
    citations: list[Citation] = []
    cited: list[Passage] = []
    markers: dict[str, int] = {}
    entries: list[tuple[DocRecord, _Part, list[str]]] = []
    for doc in choice.docs:
        part = _summary_part(doc, ctx) if kind == "summary" else _conclusion_part(doc)
        if part is None:
            continue
        quoted: list[str] = []
        for a, b in part.spans:
            passage = _passage_at(doc.doc_id, a, passages, ctx)
            if passage is None:
                continue
            if passage.chunk_id not in markers:
                markers[passage.chunk_id] = len(markers) + 1
                cited.append(passage)
            marker = markers[passage.chunk_id]
            citations.append(ctx.citation(marker, passage, a, b))
            quoted.append(f"{doc.clean_text[a:b]} [{marker}]")
        if quoted:
            entries.append((doc, part, quoted))
    if not entries:
        return None
    text = _layout(kind, entries, choice)
    ids = {p.chunk_id for p in cited}
    return Answer(
        question=question,
        text=text,
        citations=citations,
        passages=cited + [p for p in passages if p.chunk_id not in ids],
        answerer=answerer,
        confidence=1.0,
    )


def _layout(
    kind: OverviewKind, entries: list[tuple[DocRecord, _Part, list[str]]], choice: _Choice
) -> str:
    if len(entries) == 1 and choice.named:
        doc, part, quoted = entries[0]
        return f"{_label(doc)}, from its {part.label}:\n" + " ".join(quoted)
    head = "What each paper is about" if kind == "summary" else "What each paper concludes"
    if choice.total > len(choice.docs):
        head += f" (the first {len(choice.docs)} of {choice.total} papers)"
    lines = [head + ", in its own words:"]
    lines += [f"- {_label(doc)}, from its {part.label}: " + " ".join(q) for doc, part, q in entries]
    return "\n".join(lines)


def _label(doc: DocRecord) -> str:
    version = f" ({doc.version} version)" if doc.version else ""
    return f"“{doc.title}”{version}"


def _passage_at(
    doc_id: str, pos: int, passages: list[Passage], ctx: AnswerContext
) -> Passage | None:
    """The retrieved passage holding ``pos`` if there is one, else its chunk as a passage."""
    for p in passages:
        if p.doc_id == doc_id and p.field is None and p.start <= pos < p.end:
            return p
    chunk = ctx.chunk_at(doc_id, pos)
    if chunk is None or not chunk.start <= pos < chunk.end:
        return None
    return ctx.passage_for(chunk)


def _summary_part(doc: DocRecord, ctx: AnswerContext) -> _Part | None:
    """The abstract's opening sentence and the one saying what the paper does; without an
    abstract, the opening of the introduction (or of the first body section)."""
    abstract = next((f for f in ctx.front_matter(doc.doc_id) if f.kind == "abstract"), None)
    if abstract is not None:
        end = abstract.end
        for title, start, stop in _sections(doc):
            if re.search(r"(?i)abstract", title) and start <= abstract.start < stop:
                end = max(end, stop)  # an abstract of several paragraphs
        sentences = _sentences(doc, abstract.start, end, ctx)
        if sentences:
            return _Part("abstract", _pick(doc, sentences, _AIM))
    body = [s for s in _sections(doc) if not _NOT_BODY.match(s[0])]
    intro = next((s for s in body if _INTRO_TITLE.search(s[0])), body[0] if body else None)
    if intro is not None:
        sentences = _sentences(doc, intro[1], intro[2], ctx)
        label = "introduction" if _INTRO_TITLE.search(intro[0]) else f"first section, “{intro[0]}”"
    else:  # no sections at all: the opening of the text
        sentences = _sentences(doc, 0, min(len(doc.clean_text), 5000), ctx)
        label = "opening"
    return _Part(label, _pick(doc, sentences[:2], None)) if sentences else None


def _conclusion_part(doc: DocRecord) -> _Part | None:
    """The conclusion's opening sentence and the one that draws its conclusion; without a
    conclusion section, the last body section's."""
    sections = _sections(doc)
    body = [i for i, s in enumerate(sections) if not _NOT_BODY.match(s[0]) and not _is_abstract(s)]
    found = [i for i in body if _CONCLUSION_TITLE.search(sections[i][0])]
    found = found or [i for i in body[1:] if _SUMMARY_TITLE.search(sections[i][0])]
    if found:
        index, label = found[-1], "conclusion"
    elif len(body) >= 2:
        index = body[-1]
        label = f"last section, “{sections[index][0]}”"
    else:
        return None
    title, start, end = sections[index]
    for child in sections[index + 1 :]:  # "5. Conclusions" whose text is in "5.1 ...", "5.2 ..."
        if not _is_child(title, child[0]):
            break
        end = max(end, child[2])
    sentences = _sentences(doc, start, end, None)
    return _Part(label, _pick(doc, sentences, _VERDICT)) if sentences else None


def _sections(doc: DocRecord) -> list[tuple[str, int, int]]:
    return [(str(t), int(s), int(e)) for t, s, e in doc.sections]


def _is_abstract(section: tuple[str, int, int]) -> bool:
    return bool(re.match(r"(?i)\W*abstract\b", section[0]))


def _is_child(parent: str, title: str) -> bool:
    number = re.match(r"\s*(\d+(?:\.\d+)*)", parent)
    return (
        number is not None and re.match(rf"\s*{re.escape(number.group(1))}\.\d", title) is not None
    )


def _sentences(
    doc: DocRecord, start: int, end: int, ctx: AnswerContext | None
) -> list[tuple[int, int]]:
    """Whole prose sentences of ``clean_text[start:end]``: no headings, labels, title-block
    lines or splitter fragments."""
    text = doc.clean_text
    skip = [(int(s), int(s) + len(str(t))) for t, s, _ in doc.sections]
    if ctx is not None:
        skip += [
            (f.start, f.end)
            for f in ctx.front_matter(doc.doc_id)
            if f.kind in ("title", "authors", "affiliation", "venue", "keywords", "funding")
        ]
    out: list[tuple[int, int]] = []
    for a, b in sentence_spans(text, start, end):
        if any(s <= a < e for s, e in skip):
            a = max([a] + [e for s, e in skip if s <= a < e])  # "Abstract: Since ..." -> "Since"
            while a < b and not text[a].isalnum() and text[a] not in "“\"'(":
                a += 1
            if a >= b:
                continue
        sentence = text[a:b]
        if (
            len(sentence.split()) < _MIN_WORDS
            or not sentence[:1].isupper()
            and not (sentence[:1] in "“\"'(" and sentence[1:2].isupper())
        ):
            continue
        if re.match(r"(?i)key ?words?\s*:", sentence):
            continue
        out.append((a, b))
    return out


def _pick(
    doc: DocRecord, sentences: list[tuple[int, int]], cue: re.Pattern[str] | None
) -> list[tuple[int, int]]:
    """The first sentence, and the first later one matching ``cue`` (else the second), while
    the quote stays within ``MAX_WORDS``; in reading order."""
    words = [len(doc.clean_text[a:b].split()) for a, b in sentences]
    chosen = [0]
    rest = list(range(1, len(sentences)))
    if cue is not None:
        rest = [i for i in rest if cue.search(doc.clean_text[slice(*sentences[i])])] + [
            i for i in rest if not cue.search(doc.clean_text[slice(*sentences[i])])
        ]
    for i in rest[:2]:
        if words[0] + words[i] <= MAX_WORDS:
            chosen.append(i)
            break
    return [sentences[i] for i in sorted(chosen)]
