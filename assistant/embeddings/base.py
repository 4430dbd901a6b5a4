"""The interface every embedder implements: what the chunker, store and retriever need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """What the chunker, store and retriever need from an embedding model."""

    name: str
    dimension: int
    max_seq_length: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_wordpieces(self, text: str) -> int: ...
