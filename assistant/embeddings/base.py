"""The interface every embedder implements: what the chunker, store and retriever need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """What the chunker, store and retriever need from an embedding model.

    Read-only members, so a wrapper (the cache, the Ray embedder) may forward them as
    properties and a plain class may set them as attributes.
    """

    @property
    def name(self) -> str: ...  # recorded in the manifest; a change means a rebuild

    @property
    def dimension(self) -> int: ...

    @property
    def max_seq_length(self) -> int: ...  # word pieces the encoder reads before truncating

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_wordpieces(self, text: str) -> int: ...
