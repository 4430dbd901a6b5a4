"""Where the data that ships with the package lives: the bundled papers and the prompts.

A built wheel carries them as package data under ``assistant/_data/`` (``setup.py`` maps the
repository's top-level ``corpus/`` and ``prompts/`` folders there, so the checkout keeps its
layout). Run from a checkout (``PYTHONPATH`` or an editable install) there is no ``_data``
folder, and the same folders are read from the repository root. Both are read only: nothing
the assistant writes (index, cache, uploads) goes here.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    shipped = _PACKAGE / "_data" / name
    if shipped.is_dir():
        return shipped
    return _PACKAGE.parent / name  # a source checkout: <repo>/corpus, <repo>/prompts


def corpus_dir() -> Path:
    """The bundled papers and their ``catalog.toml``."""
    return _data_dir("corpus")


def prompts_dir() -> Path:
    """The shipped prompt templates (``answer.txt``, ``condense.txt``)."""
    return _data_dir("prompts")
