"""The ONNX question encoder on the real model: the same vectors and word-piece counts as
sentence-transformers on every chunk of the bundled corpus, and a cold ``assistant ask`` that
never imports torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.benchmarks.synthetic import questions as gold_questions
from assistant.chunking import embed_text
from assistant.embeddings import CachedEmbedder, LocalEmbedder, make_embedder
from assistant.embeddings.local import SentenceTransformerEmbedder
from assistant.embeddings.onnx import OnnxEmbedder
from assistant.embeddings.onnx_export import export, find_export
from tests.conftest import cli_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MIN_COSINE = 1 - 1e-4


@pytest.fixture(scope="module")
def torch_model(real_embedder: CachedEmbedder) -> SentenceTransformerEmbedder:
    inner = real_embedder.inner
    assert isinstance(inner, SentenceTransformerEmbedder)
    return inner


@pytest.fixture(scope="module")
def exported(torch_model: SentenceTransformerEmbedder, real_settings: Settings) -> Path:
    """The export in the integration index's cache folder, where a CLI run looks for it."""
    cache = real_settings.paths.cache_dir
    return export(torch_model.model, torch_model.model_path, cache, torch_model.name)


def _chunk_texts(bot: Assistant) -> list[str]:
    return [embed_text(c.section, c.text) for c in bot.snapshot.chunks]


def test_onnx_vectors_match_torch_on_every_chunk_and_question(
    real_assistant: Assistant, torch_model: SentenceTransformerEmbedder, exported: Path
) -> None:
    texts = _chunk_texts(real_assistant)
    texts += gold_questions([])[:20] + ["FTZ", "What challenges does the FTZ face?"]
    onnx = OnnxEmbedder(exported)
    got = np.vstack([onnx.embed(texts[i : i + 7]) for i in range(0, len(texts), 7)])
    expected = torch_model.embed(texts)
    cosine = np.sum(got * expected, axis=1)
    assert len(texts) > 150 and float(cosine.min()) >= MIN_COSINE, float(cosine.min())
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    one_by_one = np.vstack([onnx.embed([t]) for t in texts[:10]])  # no padding: same vectors
    assert float(np.sum(one_by_one * got[:10], axis=1).min()) >= MIN_COSINE


def test_onnx_counts_word_pieces_like_torch(
    real_assistant: Assistant, torch_model: SentenceTransformerEmbedder, exported: Path
) -> None:
    """Chunk boundaries depend on these counts: a switch of tokenizer must not move them."""
    onnx = OnnxEmbedder(exported)
    texts = _chunk_texts(real_assistant) + ["naïve café — 中国 “quoted” text " * 40]
    assert [onnx.count_wordpieces(t) for t in texts] == [
        torch_model.count_wordpieces(t) for t in texts
    ]


def test_the_local_embedder_serves_questions_from_the_export(
    real_settings: Settings, exported: Path
) -> None:
    embedder = make_embedder(real_settings, engine="local")
    local = embedder.inner
    assert isinstance(local, LocalEmbedder)
    assert find_export(local.torch.model_path, real_settings.paths.cache_dir) == exported  # type: ignore[attr-defined]
    local.embed(["What challenges does the FTZ face?"])
    assert local.onnx is not None and local.onnx.calls == 1
    assert local.torch._model is None  # type: ignore[attr-defined]  # torch never loaded


def test_cold_ask_does_not_import_torch(
    tmp_path: Path, real_settings: Settings, real_assistant: Assistant, exported: Path
) -> None:
    env = cli_env(real_settings)
    question = "Which obstacles does the Sichuan free trade zone meet today?"  # never cached
    cmd = [sys.executable, "-X", "importtime", "-m", "assistant.cli", "ask", question]
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "\nSources\n" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert "onnxruntime" in imported  # the question was encoded, by the export
    assert "bm25s" in imported  # keyword search ran...
    # numba is listed when bm25s tries it (blocked, it fails at once); numba.core when it loads
    heavy = {"torch", "sentence_transformers", "transformers", "numba.core"} & imported
    assert not heavy, heavy  # ...without bm25s's unused numba import
