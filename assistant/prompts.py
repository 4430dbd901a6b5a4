"""Prompt templates: plain text files (shipped from ``prompts/``), loaded by name, checked on load.

A template may hold a system part and a user part, separated by a line holding only ``---``.
Placeholders are ``{name}`` (``str.format`` syntax; write ``{{`` for a literal brace). Each
known template declares the placeholders it must contain, so an edited prompt that lost
``{sources}`` fails at load time with the file name, not later with a silently bad answer.
(The paper-qa habit: prompts are data, sentinels are shared constants.)

>>> prompt = load_prompt("condense")
>>> sorted(prompt.placeholders)
['history', 'question']
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .bundled import prompts_dir as _shipped_prompts
from .errors import AssistantError

SEPARATOR = "---"
# Every placeholder a template may use; the templates we ship must use the ones listed.
KNOWN_PLACEHOLDERS = frozenset({"question", "sources", "abstain_text", "history"})
REQUIRED: dict[str, frozenset[str]] = {
    "answer": frozenset({"question", "sources", "abstain_text"}),
    "condense": frozenset({"question", "history"}),
}


class PromptError(AssistantError):
    """A prompt template is missing, or its placeholders are not the expected ones."""


@dataclass(frozen=True)
class PromptTemplate:
    """One template: ``system`` (may be empty) and ``user`` text with named placeholders."""

    name: str
    system: str
    user: str
    placeholders: frozenset[str]

    def render(self, **values: str) -> tuple[str, str]:
        """(system, user) with every placeholder filled; values are inserted verbatim."""
        missing = self.placeholders - values.keys()
        if missing:
            raise PromptError(f"prompt {self.name!r} needs values for {sorted(missing)}")
        return self.system.format_map(values), self.user.format_map(values)

    def messages(self, **values: str) -> list[tuple[str, str]]:
        """Chat messages as (role, text) pairs, the form LangChain chat models accept."""
        system, user = self.render(**values)
        return ([("system", system)] if system else []) + [("human", user)]


def placeholders_of(text: str) -> frozenset[str]:
    """The ``{name}`` fields of a format string (``{{`` escapes excluded)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as e:
        raise PromptError(f"bad brace in template: {e}; write {{{{ for a literal brace") from e
    return frozenset(fields)


def load_prompt(name: str, directory: Path | None = None) -> PromptTemplate:
    """The template ``<directory>/<name>.txt`` (default: the shipped prompts), checked.

    ``directory`` is the ``paths.prompts_dir`` setting, for templates of your own.
    """
    directory = (directory or _shipped_prompts()).resolve()
    path = directory / f"{name}.txt"
    stamp = path.stat().st_mtime_ns if path.is_file() else -1  # an edited file is re-read
    return _load(name, directory, stamp)


@lru_cache(maxsize=32)
def _load(name: str, directory: Path, stamp: int) -> PromptTemplate:
    path = directory / f"{name}.txt"
    if not path.is_file():
        shipped = sorted(p.stem for p in directory.glob("*.txt"))
        raise PromptError(f"no prompt {name!r} at {path}; available: {shipped}")
    text = path.read_text(encoding="utf-8")
    system, user = _split(text)
    found = placeholders_of(system) | placeholders_of(user)
    _check(name, path, found)
    return PromptTemplate(name=name, system=system, user=user, placeholders=found)


def _split(text: str) -> tuple[str, str]:
    lines = text.splitlines()
    if SEPARATOR in (line.strip() for line in lines):
        cut = next(i for i, line in enumerate(lines) if line.strip() == SEPARATOR)
        return "\n".join(lines[:cut]).strip(), "\n".join(lines[cut + 1 :]).strip()
    return "", text.strip()


def _check(name: str, path: Path, found: frozenset[str]) -> None:
    unknown = found - KNOWN_PLACEHOLDERS
    if unknown:
        raise PromptError(
            f"{path}: unknown placeholder(s) {sorted(unknown)}; "
            f"use only {sorted(KNOWN_PLACEHOLDERS)} (write {{{{ for a literal brace)"
        )
    missing = REQUIRED.get(name, frozenset()) - found
    if missing:
        wanted = ", ".join("{" + m + "}" for m in sorted(missing))
        raise PromptError(f"{path}: the {name!r} prompt must contain {wanted}")
