"""Pick the answerer the settings ask for.

The LLM answerer is used when ``answer.answerer == "llm"`` or an ``llm.backend`` is set. A
backend that is misconfigured or unreachable never stops the assistant: the extractive
answerer takes over and the returned notice says why and what to change.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..corpus.lexicon import Lexicon
from ..embeddings import Embedder
from ..errors import AssistantError
from ..settings import AnswerSettings, Settings
from .base import Answerer
from .extractive import ExtractiveAnswerer

LATE_MODEL_FILE = "reader_model_late.json"  # trained on pooled (late) sentence vectors


def reader_settings(settings: Settings) -> AnswerSettings:
    """The answer settings, with the shipped reader trained on the sentence vectors the
    settings make (unless a reader model is named)."""
    if settings.answer.reader_model is None and settings.embedding.sentence_vectors == "late":
        shipped = Path(str(resources.files(__package__).joinpath(LATE_MODEL_FILE)))
        return settings.answer.model_copy(update={"reader_model": shipped})
    return settings.answer


def make_answerer(
    settings: Settings, embedder: Embedder, lexicon: Lexicon | None = None
) -> tuple[Answerer, str | None]:
    """The configured answerer, and a notice when it had to fall back to extractive."""
    extractive = ExtractiveAnswerer(embedder, reader_settings(settings), lexicon)
    if settings.answer.answerer != "llm" and settings.llm.backend == "none":
        return extractive, None
    if settings.llm.backend == "none":
        return extractive, (
            "answer.answerer is 'llm' but no LLM backend is set: set ASSISTANT_LLM__BACKEND to "
            "openai, ollama or llamacpp. Using the extractive answerer."
        )
    try:
        from .backends import make_chat_model
        from .llm import LLMAnswerer

        model = make_chat_model(settings.llm)
        answerer = LLMAnswerer(
            model,
            embedder,
            settings.llm,
            fallback=extractive,
            prompts_dir=settings.paths.prompts_dir,
        )
    except (AssistantError, ValueError, ImportError) as e:
        why = f"LLM backend {settings.llm.backend!r} unavailable: {e}."
        return extractive, f"{why} Using the extractive answerer."
    return answerer, None
