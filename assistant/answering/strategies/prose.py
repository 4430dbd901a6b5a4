"""Why / how and other questions: the most probable sentence first, then the other likely
sentences (none repeating another) in the papers' reading order, each quoted whole."""

from __future__ import annotations

from ...types import Answer
from .common import Reading, compose, select


def answer(r: Reading) -> Answer:
    return compose(r, select(r, r.candidates))
