"""An on-disk embedding cache keyed by content hash, in front of any Embedder.

A cache folder that cannot be written (read-only disk, permissions, a locked or corrupt
file) is not an error: the cache turns itself off with one logged notice and every text is
embedded, so answering never fails because of it.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .base import Embedder

log = logging.getLogger(__name__)

_MEMORY_CACHE = 4096  # vectors kept in RAM in front of SQLite (about 6 MB at 384-d)


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
        self._path = cache_dir / "embeddings.sqlite"
        self._local = threading.local()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()
        self.notice = ""  # why the on-disk cache is off, when it is
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")
        except (OSError, sqlite3.Error) as e:
            self._disable(e)

    @property
    def enabled(self) -> bool:
        """Whether vectors are read from and written to the SQLite file."""
        return not self.notice

    def _disable(self, e: Exception) -> None:
        if not self.notice:
            self.notice = (
                f"embedding cache off ({self._path}: {e}); texts are embedded every time. "
                "Set ASSISTANT_PATHS__CACHE_DIR to a writable folder to keep vectors."
            )
            log.warning(self.notice)

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
        if len(found) < len(keys) and self.enabled:
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

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Texts and their spans' pooled vectors (``late``), cached like ``embed``: a text is
        encoded again only when its vector or one of its spans' is missing, so a resumed
        ingest re-encodes nothing it finished."""
        dim = self.dimension
        if not texts:
            return np.zeros((0, dim), np.float32), []
        keys = [self._key(t) for t in texts]
        span_keys = [
            [self._span_key(t, a, b) for a, b in s] for t, s in zip(texts, spans, strict=True)
        ]
        wanted = list(dict.fromkeys(keys + [k for ks in span_keys for k in ks]))
        found = self._lookup(wanted) if self.enabled else {}
        missing = [
            i
            for i, k in enumerate(keys)
            if k not in found or any(s not in found for s in span_keys[i])
        ]
        if missing:
            vectors, pooled = self.inner.embed_spans(  # type: ignore[attr-defined]
                [texts[i] for i in missing], [spans[i] for i in missing]
            )
            fresh: dict[str, np.ndarray] = {}
            for j, i in enumerate(missing):
                fresh[keys[i]] = vectors[j]
                fresh.update(zip(span_keys[i], pooled[j], strict=True))
            self._store(fresh)
            found.update(fresh)
        out = np.stack([found[k] for k in keys]).astype(np.float32, copy=False)
        pooled_out = [
            np.stack([found[k] for k in ks]).astype(np.float32, copy=False)
            if ks
            else np.zeros((0, dim), np.float32)
            for ks in span_keys
        ]
        return out, pooled_out

    def _span_key(self, text: str, start: int, end: int) -> str:
        """A span's pooled vector depends on its whole text (the context), not its words."""
        return hashlib.sha256(
            f"{self.inner.name}\x00late-v2:{start}:{end}\x00{text}".encode()
        ).hexdigest()

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
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        try:
            db = self._connect()
            for i in range(0, len(unique), 500):
                batch = unique[i : i + 500]
                marks = ",".join("?" * len(batch))
                rows = db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})", batch)
                for key, blob in rows:
                    out[key] = np.frombuffer(blob, dtype=np.float32)
        except (OSError, sqlite3.Error) as e:
            self._disable(e)
        return out

    def _store(self, vectors: dict[str, np.ndarray]) -> None:
        if not self.enabled:
            return
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()]
        try:
            db = self._connect()
            with db:
                db.executemany("INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)", rows)
        except (OSError, sqlite3.Error) as e:
            self._disable(e)
