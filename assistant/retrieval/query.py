"""What kind of question is this? Cheap signals the answerers and the chat use."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ..corpus.lexicon import EMPTY, Lexicon

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours also paper papers article study say says said according mention mentioned
    tell describe explain give list main key does did do""".split()
)
_NUMERIC = re.compile(
    r"\b(how (?:many|much|large|big|fast)|what (?:percentage|share|proportion|number|amount|"
    r"year|rate|figure|value)|when|which year|growth rate|by how much)\b",
    re.I,
)
_FOLLOWUP = re.compile(
    r"^\s*(and|also|what about|how about|and what|then|so)\b|\b(its|their|it|they|them|this|"
    r"that|these|those|the same|the paper|the author|the zone|there)\b",
    re.I,
)
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_CJK_SHARE = 0.3  # share of letters above which a question is taken as not English
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str, expansions: Mapping[str, str] | None = None) -> list[str]:
    """Stemmed content words (stop words dropped, lexicon aliases expanded), numbers as written.

    Cached per text: the same candidate sentences are scored for question after question.
    """
    key = tuple(sorted(expansions.items())) if expansions else ()
    return list(_terms(text, key))


@lru_cache(maxsize=100_000)
def _terms(text: str, expansion_items: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    expansions = dict(expansion_items)
    words = re.findall(r"[a-z]&[a-z]|[A-Za-z][A-Za-z\-']*|\d+(?:[.,]\d+)*%?", text.lower())
    if expansions:
        words = [x for w in words for x in expansions.get(w, w).split()]
    content = [w.strip("'-") for w in words if w not in STOPWORDS and len(w) > 1]
    return tuple(w if w[0].isdigit() else _stemmer().stemWord(w) for w in content if w)


# What kind of answer a question wants, from its wording (English question words, not domain
# words). Order matters: the first kind whose pattern matches wins.
_KINDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "comparison",
        re.compile(
            r"\b(compare[sd]?|comparison|differ(?:s|ence|ences|ent)?|versus|vs\.?|contrast|"
            r"distinguish|in common|both papers|the two (?:papers|versions)|change[sd]? between|"
            r"(?:earlier|original) and (?:the )?(?:revised|later)|(?:revised|later) and (?:the )?"
            r"(?:earlier|original))\b",
            re.I,
        ),
    ),
    (
        "money",
        re.compile(
            r"\bhow much (?:money|funding|capital|investment)|\bhow much did \w+(?: \w+){0,4} "
            r"(?:invest|spend|pay|cost|raise|earn)|\b(?:budget|cost|price|value of (?:the )?"
            r"investment|amount of (?:money|investment|funding))\b",
            re.I,
        ),
    ),
    (
        "percent",
        re.compile(
            r"\b(?:what|which) (?:percentage|percent|share|proportion|fraction)\b|\bhow much of\b|"
            r"\b(?:growth )?rate\b.*\b(?:what|how)\b|\bwhat (?:was|is|were) the (?:\w+ )?"
            r"(?:growth )?rate\b|\bby how (?:much|many percent)",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            r"^\s*(?:in |since |until |by )?when\b|\bwhen (?:was|were|did|does|do|is|are|will|has|"
            r"had)\b|\b(?:what year|which year|what date|in what year|how long ago)\b",
            re.I,
        ),
    ),
    (
        "count",
        re.compile(
            r"\b(?:how many|how much|what (?:is|was|were) the (?:total )?number of|what number of|"
            r"how (?:large|big|long|far|fast|high))\b",
            re.I,
        ),
    ),
    (
        "person",
        re.compile(
            r"^\s*who\b(?! (?:funded|financed|sponsored|supported|published|issued|organi[sz]ed))|"
            r"\bwhich (?:person|people|official|scholar|leader|author|researcher)\b|"
            r"\b(?:name|names) of the (?:author|person|leader|mayor|president|director)",
            re.I,
        ),
    ),
    (
        "organisation",
        re.compile(
            r"^\s*who\b|\bwhich (?:university|universities|company|companies|institution|"
            r"institutions|organi[sz]ations?|agency|agencies|ministry|school|bank|enterprise|"
            r"enterprises|body|bodies)\b",
            re.I,
        ),
    ),
    (
        "place",
        re.compile(
            r"^\s*where\b|\bwhich (?:city|cities|country|countries|province|provinces|region|"
            r"regions|port|ports|place|places)\b",
            re.I,
        ),
    ),
    (
        "reason",
        re.compile(
            r"^\s*(?:why|how)\b|\bwhy\b|\bwhat (?:causes|caused|explains|drives|role|purpose)\b|"
            r"\bin what ways?\b|\bby what means\b|\bfor what reason\b|\bhow (?:does|do|did|can|"
            r"could|should|would|will|is|are|was|were)\b|\bwhat (?:is|was) the (?:reason|effect|"
            r"impact|significance)",
            re.I,
        ),
    ),
]

# Questions about the paper itself, answered from its front matter.
_FRONT_MATTER: list[tuple[str, re.Pattern[str]]] = [
    (
        "funding",
        re.compile(
            r"\b(?:fund(?:s|ed|ing|er|ers)?|grants?|sponsor(?:s|ed|ship)?|financ(?:ed|ing|ial "
            r"support)|supported the (?:study|research|work|paper)|project (?:no|number))\b",
            re.I,
        ),
    ),
    (
        "affiliation",
        re.compile(
            r"\baffiliat\w*|\bwhere (?:do|does|did) (?:the )?authors?\b.{0,80}\b(?:work|come from|"
            r"study|based)\b|"
            r"\b(?:authors?|researchers?|writers?)\b.{0,40}\b"
            r"(?:attached|based|employed|work(?:s|ed)? "
            r"(?:at|for)|from which|institution|university|company|organi[sz]ation)|\bwhich "
            r"(?:university|institution|company|organi[sz]ation)\b.{0,60}\bauthors?\b|"
            r"\bemail|e-mail|contact (?:address|details)",
            re.I,
        ),
    ),
    (
        "authors",
        re.compile(
            r"\bwho (?:wrote|authored|are the authors|is the author)|\b(?:authors?|written by)\b",
            re.I,
        ),
    ),
    ("keywords", re.compile(r"\bkey ?words?\b", re.I)),
    (
        "venue",
        re.compile(
            r"\b(?:which|what) (?:journal|conference|publisher|venue)\b|\bpublished "
            r"(?:in|by|where)\b|\b(?:journal|venue|publisher)\b.{0,30}\b(?:paper|"
            r"article|study)\b",
            re.I,
        ),
    ),
    (
        "title",
        re.compile(
            r"\b(?:title of|titled|called)\b.{0,30}\b(?:paper|article|study)\b|"
            r"\bwhat is the (?:full )?title\b",
            re.I,
        ),
    ),
]

_LIST_CUE = re.compile(
    r"\b(?:what are|which are|list|name the|enumerate|what (?:\w+ ){0,3}(?:does|do|did) (?:the )?"
    r"(?:paper|study|article|authors?) (?:identify|propose|list|suggest|name|recommend|give))\b|"
    r"\b(?:two|three|four|five|six|seven|several|main|key)\s+[a-z\-]+s\b",
    re.I,
)
# Verbs that end the noun run of "how many <noun run> <verb>" (common question verbs).
_VERBS = frozenset(
    "left leave leaves made make makes exist exists existed work works worked live lives lived "
    "took take takes came come comes joined join joins received receive receives signed sign "
    "signs opened open opens set sets built build builds employed filed studied run runs ran "
    "gather gathered operate operated long high far big large wide old".split()
)
# Words that say which kind of answer is wanted: they are not the thing asked about.
_CUE_WORDS = frozenset(
    "how many much what which who whom whose when where why year years date percentage percent "
    "share proportion number amount total rate kind type".split()
)


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    terms: tuple[str, ...]
    wants_list: bool
    wants_number: bool
    wants_date: bool
    expected_items: int | None
    mostly_cjk: bool
    kind: str = "other"  # person|organisation|place|date|count|money|percent|list|reason|
    #                      comparison|other
    focus: tuple[str, ...] = ()  # stemmed terms of the thing asked about
    unit: str | None = None  # "how many trains" -> "train": what a count counts
    front_matter: str | None = None  # funding|affiliation|authors|keywords|title
    compound: bool = False  # asks two or more things at once ("how many X, and by when?")

    @property
    def searchable(self) -> bool:
        return bool(self.terms)

    @property
    def factual(self) -> bool:
        """Does it want one typed fact (a name, date, figure) rather than prose?"""
        return self.kind in {"person", "organisation", "place", "date", "count", "money", "percent"}


def answer_kind(question: str) -> str:
    """The kind of answer ``question`` wants (see ``QuestionInfo.kind``)."""
    for kind, pattern in _KINDS:
        if pattern.search(question):
            if (
                kind == "count"
                and _LIST_CUE.search(question)
                and not re.search(r"\bhow many\b", question, re.I)
            ):
                continue
            return kind
    if _LIST_CUE.search(question) or _plural_focus(question):
        return "list"
    return "other"


def front_matter_kind(question: str) -> str | None:
    """Which part of a paper's front matter the question asks for, if any."""
    if _KINDS[0][1].search(question):
        return None  # comparisons of content, not a lookup
    for kind, pattern in _FRONT_MATTER:
        if pattern.search(question):
            if kind == "authors" and not re.search(
                r"^\s*who\b|\bauthors? of\b|\bnames?\b", question, re.I
            ):
                continue  # "the author argues..." is about content
            return kind
    return None


def count_unit(question: str) -> str | None:
    """The noun a "how many" question counts ("how many freight trains left" -> "train"): the
    last word of the run of nouns and adjectives after "how many", before the verb."""
    m = re.search(r"\b(?:how many|number of)\s+([\w\-]+(?:\s+[\w\-]+){0,4})", question, re.I)
    if m is None:
        return None
    run: list[str] = []
    for word in m.group(1).split():
        if word.lower() in STOPWORDS or word.lower() in _VERBS:
            break
        run.append(word)
    if not run:
        return None
    head = run[-1].lower()
    return _stemmer().stemWord(head) if len(head) > 2 else None


def _plural_focus(question: str) -> bool:
    """ "What shortcomings..." / "Which measures...": a wh-word asking for plural things."""
    m = re.match(
        r"\s*(?:what|which)\s+(?:[a-z\-]+\s+){0,2}?([a-z\-]+s)\s+(?:do|does|did|are|"
        r"have|has|were|can|could|should|would|will)\b",
        question,
        re.I,
    )
    return m is not None and not m.group(1).lower().endswith(("ss", "us", "is"))


def _names_list_noun(question: str, lexicon: Lexicon) -> bool:
    words = set(re.findall(r"[a-z]+", question.lower()))
    return any(words & group for group in lexicon.list_nouns)


def focus_terms(
    question: str,
    expansions: Mapping[str, str] | None = None,
    generic: frozenset[str] = frozenset(),
) -> tuple[str, ...]:
    """Stemmed terms of the thing asked about: question terms minus kind cues and generic words."""
    cues = {_stemmer().stemWord(w) for w in _CUE_WORDS}
    generic_stems = {_stemmer().stemWord(w) for w in generic}
    content = [t for t in terms(question, expansions) if t not in cues]
    specific = [t for t in content if t not in generic_stems]
    # "When was the <generic> zone set up?": the generic words are then the thing asked about
    return tuple(dict.fromkeys(specific if len(specific) >= 2 else content))


def analyse(question: str, lexicon: Lexicon | None = None) -> QuestionInfo:
    """What ``question`` asks for, from its wording (``plan.make_plan`` calls it once per
    question, with the follow-up resolved)."""
    lexicon = lexicon or EMPTY
    expansions = lexicon.word_expansions
    count = next(
        (
            n
            for w, n in _NUMBER_WORDS.items()
            if re.search(rf"\b{w}\b(?!\s+(?:years?|months?|days?|times|decades?))", question, re.I)
        ),
        None,
    )
    kind = answer_kind(question)
    return QuestionInfo(
        text=question,
        terms=tuple(terms(question, expansions)),
        wants_list=kind == "list"
        or (
            (kind == "other" or (kind == "reason" and not re.match(r"\s*why\b", question, re.I)))
            and _names_list_noun(question, lexicon)
        ),
        wants_number=bool(_NUMERIC.search(question)) or kind in ("count", "money", "percent"),
        wants_date=kind == "date",
        expected_items=count,
        mostly_cjk=mostly_cjk(question),
        kind=kind,
        focus=focus_terms(question, expansions, lexicon.generic),
        unit=count_unit(question) if kind == "count" else None,
        front_matter=front_matter_kind(question),
        compound=is_compound(question),
    )


def mostly_cjk(text: str) -> bool:
    """Is ``text`` mostly Chinese, Japanese or Korean (the papers are in English)?"""
    letters = sum(ch.isalpha() for ch in text) or 1
    return len(_CJK.findall(text)) / letters > _CJK_SHARE


_WH = re.compile(r"\b(?:how many|how much|how|what|which|who|whom|when|where|why)\b", re.I)


def question_parts(question: str) -> list[str]:
    """The separate questions of a compound one, each as asked."""
    pieces = re.split(
        r"\?\s+|(?:,\s*(?:and\s+)?|;\s*|\s+and\s+)(?=(?:\w+\s+){0,3}?(?:how|what|which|who|whom|"
        r"when|where|why)\b)",
        question.strip(),
        flags=re.I,
    )
    return [p.strip(" ,;?") + "?" for p in pieces if p and len(p.split()) >= 2]


def is_compound(question: str) -> bool:
    """Does the question ask two things ("How many ..., and by when ...?", "X? Y?")?"""
    if len(re.findall(r"\?", question.strip().rstrip("?"))) >= 1:
        return True
    cues = _WH.findall(question)
    return len(cues) >= 2 and bool(
        re.search(
            r"(?:,|\band\b|;)\s*(?:\w+\s+){0,3}?(?:how|what|which|who|whom|when|where|why)\b",
            question,
            re.I,
        )
    )


def looks_like_followup(question: str) -> bool:
    """Short or pronoun-led questions lean on the previous turn for their topic."""
    return len(question.split()) <= 6 or bool(_FOLLOWUP.search(question))
