"""Pick the answerer the settings ask for."""

from __future__ import annotations

from ..embeddings import Embedder
from ..settings import Settings
from .base import Answerer
from .extractive import ExtractiveAnswerer


def make_answerer(settings: Settings, embedder: Embedder) -> tuple[Answerer, str | None]:
    """The configured answerer, and a notice when it had to fall back to extractive."""
    return ExtractiveAnswerer(embedder, settings.answer), None
