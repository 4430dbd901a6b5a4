"""The exported encoder served by onnxruntime and ``tokenizers``: no torch in the process.

Same vectors as sentence-transformers (the graph holds its pooling and normalisation; the
tokenizer is the model's own fast tokenizer, truncating at ``max_seq_length`` word pieces).
One intra-op thread: the batches served here are question-sized, and on shared cores a
spinning thread pool costs more than it saves (bench/README.md).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

_BATCH = 32  # texts per run: sorted by length first, so padding stays short
_NO_TELEMETRY = "ORT_DISABLE_TELEMETRY"


def onnxruntime() -> ModuleType:
    """onnxruntime, imported with its telemetry off.

    Its Linux wheels (1.2x on) create ``~/.cache/Microsoft/DeveloperTools/.onnxruntime/``
    (a device id and an event store, for upload) as soon as the library initialises, at
    import; ``disable_telemetry_events()`` runs too late to stop that. The environment
    variable ``ORT_DISABLE_TELEMETRY=1``, read once when it initialises, is its full opt-out:
    no uploader, id or store (microsoft/onnxruntime#27379). So it is set before the import;
    a value the user set is kept.
    """
    os.environ.setdefault(_NO_TELEMETRY, "1")
    import onnxruntime as ort

    ort.disable_telemetry_events()  # and no events from this process, whatever the variable
    return ort


class OnnxEmbedder:
    """An export folder (see ``onnx_export``) as an Embedder; loaded lazily once, thread-safe."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        self.folder = folder
        meta = json.loads((folder / "meta.json").read_text())
        self.name: str = meta["model"]
        self.dimension: int = int(meta["dimension"])
        self.max_seq_length: int = int(meta["max_seq_length"])
        self.threads = threads
        self._session: Any = None
        self._encoder: Any = None  # truncates and pads
        self._counter: Any = None  # neither: counts every word piece (loaded on first count)
        self._lock = threading.Lock()
        self.calls = 0

    def load(self) -> None:
        """Open the session and the encoding tokenizer now (raises when onnxruntime cannot)."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            from tokenizers import Tokenizer

            ort = onnxruntime()
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # errors only: the CLI prints the answer, nothing else
            encoder = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            encoder.enable_truncation(self.max_seq_length)
            pad = encoder.padding or {}
            encoder.enable_padding(
                pad_id=pad.get("pad_id", 0), pad_token=pad.get("pad_token", "[PAD]")
            )
            session = ort.InferenceSession(
                str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
            self._encoder, self._session = encoder, session

    def count_wordpieces(self, text: str) -> int:
        """Word pieces the encoder sees, including [CLS] and [SEP] (no truncation)."""
        if self._counter is None:
            from tokenizers import Tokenizer

            counter = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            counter.no_truncation()
            counter.no_padding()
            self._counter = counter
        return len(self._counter.encode(text).ids)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        self.load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), _BATCH):
            batch = order[start : start + _BATCH]
            out[batch] = self._run([texts[i] for i in batch])
        self.calls += len(texts)
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._encoder.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
