"""The corpus lexicon: synonyms, generic words and list-noun groups, read from a TOML file.

Domain knowledge is data (``corpus/lexicon.toml``), so another corpus brings its own and an
empty or missing file gives a working assistant without synonyms. Loaded once per path and
modification time.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import AssistantError


@dataclass(frozen=True)
class Lexicon:
    """What a corpus tells the assistant about its words.

    >>> lex = Lexicon(synonyms={"NLP": "natural language processing"})
    >>> lex.expand_query("Which NLP tools?")
    'Which NLP tools? natural language processing'
    """

    synonyms: dict[str, str] = field(default_factory=dict)  # alias -> phrase the papers use
    generic: frozenset[str] = frozenset()  # lower-case words too common to be a focus
    list_nouns: tuple[frozenset[str], ...] = ()  # groups of interchangeable list nouns

    @property
    def word_expansions(self) -> dict[str, str]:
        """Single-token aliases (lower case) -> their phrase, for term matching."""
        return _word_expansions(tuple(sorted(self.synonyms.items())))

    def expand_query(self, query: str) -> str:
        """``query`` with the phrase of every alias it uses appended (once), and the
        abbreviation of every phrase it spells out ("natural language processing" -> "NLP"),
        so keyword search finds both spellings."""
        extra: list[str] = []
        abbreviated: set[str] = set()
        lowered = query.lower()
        for alias, phrase in self.synonyms.items():
            if phrase.lower() in lowered:
                if (
                    _is_abbreviation(alias)
                    and phrase not in abbreviated
                    and not _alias_pattern(alias).search(query)
                ):
                    extra.append(alias)
                    abbreviated.add(phrase)
            elif phrase not in extra and _alias_pattern(alias).search(query):
                extra.append(phrase)
        return " ".join([query, *extra])

    def list_group(self, word: str) -> frozenset[str]:
        """The list nouns interchangeable with ``word`` (itself alone when none)."""
        w = word.lower()
        return next((g for g in self.list_nouns if w in g), frozenset({w}))


EMPTY = Lexicon()


def load_lexicon(path: Path | None) -> Lexicon:
    """The lexicon at ``path``; an absent file (or None) is the empty lexicon."""
    if path is None or not Path(path).is_file():
        return EMPTY
    p = Path(path)
    return _load(p.resolve(), p.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Lexicon:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise AssistantError(f"cannot read the lexicon {path}: {e}; fix or delete it") from e
    synonyms = data.get("synonyms", {})
    words = data.get("words", {})
    groups = words.get("list_nouns", [])
    generic = words.get("generic", [])
    if not isinstance(synonyms, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in synonyms.items()
    ):
        raise AssistantError(f"{path}: [synonyms] must map names to phrases (strings)")
    if not all(isinstance(g, list) for g in groups) or not isinstance(generic, list):
        raise AssistantError(f"{path}: words.generic is a list, words.list_nouns a list of lists")
    return Lexicon(
        synonyms=dict(synonyms),
        generic=frozenset(str(w).lower() for w in generic),
        list_nouns=tuple(frozenset(str(w).lower() for w in g) for g in groups if g),
    )


def _is_abbreviation(alias: str) -> bool:
    """ "NLP", "R&D": one short upper-case token (plurals like "NLPs" excluded)."""
    return bool(re.fullmatch(r"[A-Z][A-Z&]{1,5}", alias))


@lru_cache(maxsize=256)
def _alias_pattern(alias: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in re.split(r"[\s,]+", alias.strip()) if p]
    body = r"[\s,]+".join(parts).replace(r"\&", r"\s?&\s?")
    return re.compile(rf"(?<![\w&]){body}(?![\w&])", re.I)


@lru_cache(maxsize=16)
def _word_expansions(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {a.lower().replace(" ", ""): p.lower() for a, p in items if " " not in a.strip()}
