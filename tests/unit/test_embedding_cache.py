"""The embedding cache: hits skip the model; an unwritable cache folder turns the cache off."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import CachedEmbedder, HashEmbedder, LocalEmbedder, make_embedder
from assistant.embeddings.local import SentenceTransformerEmbedder
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

TEXTS = ["Belt and Road", "Sichuan Pilot Free Trade Zone", "Belt and Road"]


def test_second_run_reads_vectors_from_disk(tmp_path: Path) -> None:
    first = CachedEmbedder(HashEmbedder(), tmp_path)
    want = first.embed(TEXTS)
    inner = HashEmbedder()
    again = CachedEmbedder(inner, tmp_path).embed(TEXTS)
    assert inner.calls == 0
    np.testing.assert_array_equal(again, want)


def test_unwritable_cache_degrades_to_no_cache_with_one_notice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    inner = HashEmbedder()
    with caplog.at_level(logging.WARNING):
        embedder = CachedEmbedder(inner, blocker / "cache")
        first = embedder.embed(TEXTS)
        second = embedder.embed(["another question"])
    assert not embedder.enabled
    assert first.shape == (3, inner.dimension) and second.shape == (1, inner.dimension)
    notices = [r.getMessage() for r in caplog.records if "embedding cache off" in r.getMessage()]
    assert len(notices) == 1 and "ASSISTANT_PATHS__CACHE_DIR" in notices[0]


def test_a_database_that_turns_read_only_mid_run_stops_caching(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = CachedEmbedder(HashEmbedder(), tmp_path)
    embedder.embed(["cached"])
    db = embedder._connect()
    db.execute("PRAGMA query_only=ON")  # every write now fails as on a read-only file
    with caplog.at_level(logging.WARNING):
        vectors = embedder.embed(["new text", "more new text"])
        embedder.embed(["and more"])
    assert vectors.shape[0] == 2 and not embedder.enabled
    assert sum("embedding cache off" in r.getMessage() for r in caplog.records) == 1


def test_make_embedder_picks_the_engine_without_loading_a_model(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    local = make_embedder(settings)
    assert isinstance(local.inner, LocalEmbedder)
    assert isinstance(local.inner.torch, SentenceTransformerEmbedder)
    assert local.inner.torch._model is None and local.inner.onnx is None  # lazy: nothing loaded
    ray_settings = settings.with_updates(embedding={"engine": "ray"})
    assert type(make_embedder(ray_settings).inner).__name__ == "RayEmbedder"
    assert isinstance(make_embedder(ray_settings, engine="local").inner, LocalEmbedder)
