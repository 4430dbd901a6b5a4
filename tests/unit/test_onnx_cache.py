"""The ONNX export's cache folder and pointers, and the fall-back to torch when ONNX fails.

The export itself and its vectors are tested on the real model in
tests/integration/test_onnx_encoder.py; here a tiny fake model folder stands in.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.embeddings import HashEmbedder, LocalEmbedder, default_model_path, onnx_export
from assistant.embeddings.local import SentenceTransformerEmbedder
from assistant.settings import EmbeddingSettings

pytestmark = pytest.mark.unit


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights" * 100)
    (folder / "config.json").write_text("{}")
    (folder / "1_Pooling" / "config.json").write_text('{"mean": true}')
    return folder


def _complete_export(cache: Path, fingerprint: str, model: bytes = b"not onnx") -> Path:
    """What a finished export leaves: the three files, meta.json last."""
    folder = onnx_export.onnx_root(cache) / fingerprint
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(model)
    (folder / "tokenizer.json").write_bytes((default_model_path() / "tokenizer.json").read_bytes())
    meta = {"model": "m", "dimension": 64, "max_seq_length": 256, "format": 1}
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


def test_find_export_hashes_the_model_once_then_reads_the_pointer(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    assert onnx_export.find_export(model_dir, cache) is None
    assert not (onnx_export.onnx_root(cache) / "pointers").exists()  # no export: no pointer
    folder = _complete_export(cache, onnx_export.model_fingerprint(model_dir))
    assert onnx_export.find_export(model_dir, cache) == folder

    def no_hashing(path: Path) -> str:
        raise AssertionError("the model was hashed again")

    monkeypatch.setattr(onnx_export, "model_fingerprint", no_hashing)
    assert onnx_export.find_export(model_dir, cache) == folder  # from the pointer


def test_a_changed_model_is_not_served_the_old_export(model_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _complete_export(cache, onnx_export.model_fingerprint(model_dir))
    assert onnx_export.find_export(model_dir, cache) is not None
    (model_dir / "model.safetensors").write_bytes(b"retrained" * 100)
    assert onnx_export.find_export(model_dir, cache) is None


def test_same_size_and_mtime_but_new_content_keeps_the_pointer(
    model_dir: Path, tmp_path: Path
) -> None:
    """The documented trade-off: the pointer trusts path, size and mtime (a stat per file)."""
    cache = tmp_path / "cache"
    _complete_export(cache, onnx_export.model_fingerprint(model_dir))
    onnx_export.find_export(model_dir, cache)
    weights = model_dir / "model.safetensors"
    stat = weights.stat()
    weights.write_bytes(b"WEIGHTS" * 100)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert onnx_export.find_export(model_dir, cache) is not None


def test_an_incomplete_export_folder_is_ignored(model_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    folder = _complete_export(cache, onnx_export.model_fingerprint(model_dir))
    (folder / "meta.json").unlink()  # meta.json is written last
    assert onnx_export.find_export(model_dir, cache) is None


class _FakeTokenizer:
    class backend_tokenizer:  # noqa: N801 - mimics the transformers attribute
        @staticmethod
        def save(path: str) -> None:
            Path(path).write_text("{}")


class _FakeModel:
    tokenizer = _FakeTokenizer()
    max_seq_length = 256

    def get_sentence_embedding_dimension(self) -> int:
        return 64


def test_a_failed_export_leaves_nothing(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_trace(model: Any, target: Path) -> None:
        target.write_bytes(b"half a file")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(onnx_export, "_trace", failing_trace)
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError):
        onnx_export.export(_FakeModel(), model_dir, cache, "m")
    assert list(onnx_export.onnx_root(cache).iterdir()) == []
    assert onnx_export.find_export(model_dir, cache) is None


def test_two_exports_at_once_keep_one_complete_folder(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process that renames second discards its copy and uses the first one's."""
    cache = tmp_path / "cache"
    fingerprint = onnx_export.model_fingerprint(model_dir)

    def racing_trace(model: Any, target: Path) -> None:
        target.write_bytes(b"ours")
        _complete_export(cache, fingerprint, model=b"theirs")  # the other process wins

    monkeypatch.setattr(onnx_export, "_trace", racing_trace)
    monkeypatch.setattr(onnx_export, "_check_against_torch", lambda model, folder: None)
    folder = onnx_export.export(_FakeModel(), model_dir, cache, "m")
    assert (folder / "model.onnx").read_bytes() == b"theirs"
    assert sorted(p.name for p in onnx_export.onnx_root(cache).iterdir()) == [
        fingerprint,
        "pointers",
    ]
    assert onnx_export.find_export(model_dir, cache) == folder


class _FakeTorch(SentenceTransformerEmbedder):
    """The torch encoder's interface with hashed vectors: no model is loaded."""

    def __init__(self, model_path: Path) -> None:
        super().__init__(EmbeddingSettings(model_path=model_path))
        self.fake = HashEmbedder(dimension=384)

    @property
    def model(self) -> Any:
        return _FakeModel()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        return self.fake.embed(texts)

    def count_wordpieces(self, text: str) -> int:
        return self.fake.count_wordpieces(text)


def test_a_broken_export_falls_back_to_torch_with_one_warning(
    model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    _complete_export(cache, onnx_export.model_fingerprint(model_dir))  # model.onnx is garbage
    torch = _FakeTorch(model_dir)
    embedder = LocalEmbedder(torch.settings, cache, torch)
    with caplog.at_level(logging.WARNING):
        first = embedder.embed(["What challenges does the FTZ face?"])
        again = embedder.embed(["Another question"])
        count = embedder.count_wordpieces("four words here now")
    assert first.shape == again.shape == (1, 384)
    assert torch.calls == 2 and embedder.calls == 2 and count == 6
    assert embedder.onnx is None and "ONNX unavailable" in embedder.notice
    assert sum("ONNX unavailable" in r.getMessage() for r in caplog.records) == 1


def test_a_failing_export_falls_back_to_torch(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_trace(model: Any, target: Path) -> None:
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(onnx_export, "_trace", failing_trace)
    torch = _FakeTorch(model_dir)
    embedder = LocalEmbedder(torch.settings, tmp_path / "cache", torch)
    vectors = embedder.embed(["a question"])
    np.testing.assert_allclose(vectors, torch.fake.embed(["a question"]))
    assert "unsupported operator" in embedder.notice
    assert list(onnx_export.onnx_root(tmp_path / "cache").iterdir()) == []


def test_counting_word_pieces_never_exports_nor_rehashes(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunking counts every chunk's word pieces: with no export, torch's tokenizer counts,
    and the cache is searched once, not per call."""
    torch = _FakeTorch(model_dir)
    embedder = LocalEmbedder(torch.settings, tmp_path / "cache", torch)
    hashed: list[Path] = []
    real = onnx_export.model_fingerprint

    def counting(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(onnx_export, "model_fingerprint", counting)
    monkeypatch.setattr(onnx_export, "export", lambda *a: pytest.fail("exported"))
    assert [embedder.count_wordpieces("a b c") for _ in range(3)] == [5, 5, 5]
    assert len(hashed) == 1 and embedder.onnx is None and not embedder.notice


def test_onnx_can_be_switched_off(model_dir: Path, tmp_path: Path) -> None:
    torch = _FakeTorch(model_dir)
    settings = EmbeddingSettings(model_path=model_dir, onnx_queries=False)
    embedder = LocalEmbedder(settings, tmp_path / "cache", torch)
    embedder.embed(["q"])
    assert torch.calls == 1 and not (tmp_path / "cache").exists()
