"""One text normaliser for comparing text from different renderings of a paper: a gold quote
with the raw file, a key fact with an answer, a citation with its passage.

NFKC (ligatures, full-width forms), curly quotes straightened, soft hyphens dropped, words
broken at a line-end hyphen rejoined ("con-\\nstruction" -> "construction"), whitespace runs
collapsed, lower case.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "\u00ad": ""})
_HYPHEN_BREAK = re.compile(r"(?<=\w)-\s+(?=\w)")
_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The comparable form of ``text``.

    >>> normalise("The  “Silk Road”\\ncon-\\nstruction")
    'the "silk road" construction'
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _HYPHEN_BREAK.sub("", text)
    return _WS.sub(" ", text).strip().lower()
