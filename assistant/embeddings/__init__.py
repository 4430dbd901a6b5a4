"""Sentence embeddings: the ``Embedder`` interface and ``make_embedder``, the one way to get
the configured one (local model or Ray Data workers, behind the on-disk cache).

>>> embedder = make_embedder(Settings())        # doctest: +SKIP
>>> embedder.embed(["trade corridors"]).shape     # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

from typing import Literal

from ..settings import Settings
from .base import Embedder
from .cache import CachedEmbedder
from .fake import HashEmbedder
from .local import SentenceTransformerEmbedder, default_model_path
from .serving import LocalEmbedder

__all__ = [
    "CachedEmbedder",
    "Embedder",
    "HashEmbedder",
    "LocalEmbedder",
    "SentenceTransformerEmbedder",
    "default_model_path",
    "make_embedder",
    "prepare_query_encoder",
]


def make_embedder(
    settings: Settings, engine: Literal["local", "ray"] | None = None
) -> CachedEmbedder:
    """The embedder ``settings`` ask for, behind the embedding cache in ``paths.cache_dir``.

    ``engine`` overrides ``embedding.engine``: ingest embeds where the settings say (``ray``
    spreads the work over a cluster), while answering a question always embeds locally.
    Locally, questions are encoded by the model's ONNX export when the cache holds one (no
    torch import) and bulk batches by torch (:class:`LocalEmbedder`). Nothing is loaded until
    the first ``embed``.
    """
    inner: Embedder
    if (engine or settings.embedding.engine) == "ray":
        from .ray import RayEmbedder  # Ray is an optional extra: imported only when asked for

        inner = RayEmbedder(settings.embedding)
    else:
        torch = SentenceTransformerEmbedder(settings.embedding)
        inner = LocalEmbedder(settings.embedding, settings.paths.cache_dir, torch)
    return CachedEmbedder(inner, settings.paths.cache_dir)


def prepare_query_encoder(settings: Settings) -> None:
    """Make sure the ONNX question encoder is in the cache (``assistant ingest`` calls this,
    so the next ``ask`` starts without torch even when the ingest embedded nothing).

    A few ``stat`` calls when it is there; otherwise one export with torch. A failure is
    logged, never raised: questions are then encoded with torch.
    """
    torch = SentenceTransformerEmbedder(settings.embedding)
    LocalEmbedder(settings.embedding, settings.paths.cache_dir, torch).query_encoder(export=True)
