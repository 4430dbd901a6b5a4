"""A deterministic embedder for unit tests: same interface, no model, no randomness."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class HashEmbedder:
    """Deterministic fake: hashed bag of words, normalised. For unit tests only."""

    def __init__(self, dimension: int = 64, max_seq_length: int = 256) -> None:
        self.name = f"hash-{dimension}"
        self.dimension = dimension
        self.max_seq_length = max_seq_length
        self.calls = 0

    def count_wordpieces(self, text: str) -> int:
        return len(text.split()) + 2

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                h = int.from_bytes(hashlib.md5(word.strip(".,;:!?\"'()").encode()).digest()[:4])
                out[i, h % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        self.calls += len(texts)
        return out / np.maximum(norms, 1e-9)

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector and its spans' (the span's words hashed, no context)."""
        vectors = self.embed(texts)
        pooled = [self.embed([t[a:b] for a, b in s]) for t, s in zip(texts, spans, strict=True)]
        self.calls -= sum(len(s) for s in spans)  # spans ride on their text's pass
        return vectors, pooled
