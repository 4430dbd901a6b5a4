"""What kind of question is this? Cheap signals the answerers and the chat use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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
_LIST = re.compile(
    r"\b(what are|which|list|name the|enumerate|main|"
    r"(?:two|three|four|five|six|seven|several)\s+\w+|"
    r"challenges|measures|suggestions|opportunities|strategies|countermeasures|deficiencies|"
    r"problems|advantages|areas|paths|ways|steps|shortcomings|weaknesses|difficulties|obstacles|"
    r"risks|recommendations|proposals|openings|prospects|approaches)\b",
    re.I,
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
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


# Abbreviations the papers and users mix freely, expanded so both spellings match.
_EXPANSIONS = {
    "ftz": "pilot free trade zone",
    "ftzs": "pilot free trade zone",
    "fta": "free trade zone",
    "bri": "belt and road",
    "obor": "belt and road",
    "b&r": "belt and road",
    "s&t": "science technology",
    "r&d": "research development",
}


def terms(text: str) -> list[str]:
    """Stemmed content words (stop words dropped, abbreviations expanded), numbers as written."""
    words = re.findall(r"[a-z]&[a-z]|[A-Za-z][A-Za-z\-']*|\d+(?:[.,]\d+)*%?", text.lower())
    expanded = [x for w in words for x in _EXPANSIONS.get(w, w).split()]
    content = [w.strip("'-") for w in expanded if w not in STOPWORDS and len(w) > 1]
    return [w if w[0].isdigit() else _stemmer().stemWord(w) for w in content if w]


@dataclass(frozen=True)
class QuestionInfo:
    text: str
    terms: tuple[str, ...]
    wants_list: bool
    wants_number: bool
    wants_date: bool
    expected_items: int | None
    mostly_cjk: bool

    @property
    def searchable(self) -> bool:
        return bool(self.terms)


def analyse(question: str) -> QuestionInfo:
    count = next(
        (
            n
            for w, n in _NUMBER_WORDS.items()
            if re.search(rf"\b{w}\b(?!\s+(?:years?|months?|days?|times|decades?))", question, re.I)
        ),
        None,
    )
    cjk = len(_CJK.findall(question))
    letters = sum(ch.isalpha() for ch in question) or 1
    return QuestionInfo(
        text=question,
        terms=tuple(terms(question)),
        wants_list=bool(_LIST.search(question)),
        wants_number=bool(_NUMERIC.search(question)),
        wants_date=bool(
            re.search(r"\b(when|which year|what year|since when|what date)\b", question, re.I)
        ),
        expected_items=count,
        mostly_cjk=cjk / letters > 0.3,
    )


def looks_like_followup(question: str) -> bool:
    """Short or pronoun-led questions lean on the previous turn for their topic."""
    return len(question.split()) <= 6 or bool(_FOLLOWUP.search(question))
