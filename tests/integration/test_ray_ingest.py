"""Ray Data embedding on a small local cluster: same index as one process; failures are clean."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app
from assistant.embeddings import CachedEmbedder
from assistant.embeddings.ray import EmbedActor, RayEmbedder
from assistant.errors import AssistantError
from assistant.ingest import ingest
from assistant.store import load_snapshot
from tests.conftest import make_settings

ray = pytest.importorskip("ray")
pytestmark = [pytest.mark.integration, pytest.mark.ray, pytest.mark.slow]

MARKER = "Zeppelinfabrik"


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """Two CPUs, no dashboard, quiet workers; the library reuses it and leaves it running."""
    # workers cannot import this test module by name: ship its classes by value instead
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


class FailOnMarker(EmbedActor):
    """A worker that breaks on the one batch holding the marker word."""

    def embed(self, texts: list[str]) -> np.ndarray:
        if any(MARKER in t for t in texts):
            raise RuntimeError(f"cannot embed {MARKER}")
        return super().embed(texts)


def test_cli_ray_ingest_matches_single_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ray_cluster: None,
    real_assistant: Assistant,
) -> None:
    monkeypatch.setenv("ASSISTANT_PATHS__INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_PATHS__CACHE_DIR", str(tmp_path / "cache"))  # nothing cached
    monkeypatch.setenv("ASSISTANT_EMBEDDING__RAY_BATCH_SIZE", "32")
    result = CliRunner().invoke(app, ["ingest", "--engine", "ray"])
    assert result.exit_code == 0, result.output
    want, output = real_assistant.snapshot, " ".join(result.output.split())  # rich wraps lines
    assert f"{len(want.chunks)} chunks" in output
    assert f"{len(want.chunks)} embedded" in output  # every one went through Ray
    got = load_snapshot(tmp_path / "index")
    assert [c.chunk_id for c in got.chunks] == [c.chunk_id for c in want.chunks]
    assert [(c.start, c.end) for c in got.chunks] == [(c.start, c.end) for c in want.chunks]
    np.testing.assert_allclose(got.store.vectors(), want.store.vectors(), atol=1e-5)


def test_a_failing_batch_is_named_and_the_index_survives(
    tmp_path: Path, corpus_copy: Path, ray_cluster: None, real_embedder: CachedEmbedder
) -> None:
    settings = make_settings(tmp_path, corpus=corpus_copy)
    ingest(settings=settings, embedder=real_embedder)  # the live generation, built locally
    before = load_snapshot(settings.paths.index_dir)
    paragraphs = [f"Paragraph {i} on inland ports and rail freight in Sichuan." for i in range(40)]
    paragraphs[25] += f" The {MARKER} appears here."
    (corpus_copy / "new_paper.txt").write_text("\n\n".join(paragraphs), encoding="utf-8")
    ray_settings = settings.with_updates(embedding={"engine": "ray", "ray_batch_size": 2})
    broken = CachedEmbedder(
        RayEmbedder(ray_settings.embedding, actor=FailOnMarker), tmp_path / "ray-cache"
    )
    with pytest.raises(AssistantError) as caught:
        ingest(settings=ray_settings, embedder=broken)
    message = str(caught.value)
    assert "batch of texts" in message and MARKER in message and "not changed" in message
    after = load_snapshot(settings.paths.index_dir)
    assert after.path == before.path
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in before.chunks]
    assert "new_paper.txt" not in after.documents
