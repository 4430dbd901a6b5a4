"""The local encoder: question-sized batches through ONNX, bulk encoding through torch.

A fresh ``assistant ask`` used to spend 3.4 s importing torch and loading the model to encode
one question. Here small batches (a question, the sentences the answerer scores) go to the
model's ONNX export (``onnx_export``) on onnxruntime, which never imports torch; ingest's
batches go to sentence-transformers. ``assistant ingest`` makes the export when the cache
lacks it (``prepare_query_encoder``), after the ingest, so its timings stay the pipeline's.

When there is no export yet (a cache filled by an older version, an index built through the
library or the UI, a cleared cache), the first question loads torch once, exports, and serves
from the export. If exporting or onnxruntime fails for any reason, torch serves the questions
and one warning says why: never an error for the user. Both paths give the same vectors
(cosine ≥ 1 - 1e-4, tests/integration/test_onnx_encoder.py) and the same word-piece counts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..settings import EmbeddingSettings
from .base import Embedder
from .local import SentenceTransformerEmbedder
from .onnx import OnnxEmbedder

log = logging.getLogger(__name__)

# Batches up to this many texts go to ONNX: a question, or the sentences of the top passages
# the extractive answerer scores (8 passages hold well under 128). Ingest embeds
# ``batch_size * 4`` (256) texts per call, on torch with all its threads.
ONNX_MAX_BATCH = 128


class LocalEmbedder:
    """all-MiniLM-L6-v2 in this process, from torch or its ONNX export (see module doc)."""

    def __init__(
        self,
        settings: EmbeddingSettings,
        cache_dir: Path,
        torch_embedder: Embedder | None = None,
    ) -> None:
        self.settings = settings
        self.cache_dir = cache_dir
        self.torch = torch_embedder or SentenceTransformerEmbedder(settings)
        self.name = self.torch.name  # the manifest's model name, whichever path encodes
        # only the sentence-transformers model is exported (a test's fake is served as is)
        self._exportable = settings.onnx_queries and isinstance(
            self.torch, SentenceTransformerEmbedder
        )
        self.onnx: OnnxEmbedder | None = None
        self.notice = ""  # why ONNX is off, when it failed
        self._looked = False  # searched the cache once (exporting is tried separately)
        self._exported = False  # tried to export once
        self._lock = threading.Lock()

    @property
    def dimension(self) -> int:
        return self.onnx.dimension if self.onnx else self.torch.dimension

    @property
    def max_seq_length(self) -> int:
        return self.onnx.max_seq_length if self.onnx else self.torch.max_seq_length

    @property
    def calls(self) -> int:
        """Texts actually encoded, on either path (ingest reports count them)."""
        torch_calls = int(getattr(self.torch, "calls", 0))
        return torch_calls + (self.onnx.calls if self.onnx else 0)

    def count_wordpieces(self, text: str) -> int:
        onnx = self.query_encoder(export=False)
        return onnx.count_wordpieces(text) if onnx else self.torch.count_wordpieces(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) <= ONNX_MAX_BATCH:
            onnx = self.query_encoder(export=True)
            if onnx is not None:
                return onnx.embed(texts)
        return self.torch.embed(texts)

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Ingest's chunks with their sentences' pooled vectors: always torch (bulk)."""
        from .late import embed_with_spans

        return embed_with_spans(self.torch, texts, spans)

    def query_encoder(self, export: bool) -> OnnxEmbedder | None:
        """The ONNX encoder, found in the cache (or exported when ``export``); None: torch."""
        if self.onnx is not None or self.notice or not self._exportable:
            return self.onnx
        if self._looked and (self._exported or not export):
            return None
        with self._lock:
            if self.onnx is None and not self.notice:
                try:
                    self.onnx = self._open(export)
                except Exception as e:  # noqa: BLE001 - any failure: torch serves instead
                    self.notice = (
                        f"question encoder: ONNX unavailable ({type(e).__name__}: {e}); "
                        "questions are encoded with torch (slower start)"
                    )
                    log.warning(self.notice)
        return self.onnx

    def _open(self, export: bool) -> OnnxEmbedder | None:
        from . import onnx_export

        assert isinstance(self.torch, SentenceTransformerEmbedder)
        model_path = self.torch.model_path
        folder = None if self._looked else onnx_export.find_export(model_path, self.cache_dir)
        self._looked = True
        if folder is None:
            if not export or self._exported:
                return None
            self._exported = True
            folder = onnx_export.export(self.torch.model, model_path, self.cache_dir, self.name)
            log.info("exported the question encoder to %s (once per model)", folder)
        onnx = OnnxEmbedder(folder)
        onnx.load()
        return onnx
