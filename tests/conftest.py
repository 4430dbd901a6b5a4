"""Shared fixtures: every data, index and cache path points at a temporary folder.

``real_settings`` / ``real_assistant`` build one index of the bundled corpus with the real
model per test session (about 10 s), shared by the integration tests.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, Settings
from assistant.embeddings import CachedEmbedder, HashEmbedder, SentenceTransformerEmbedder
from tests.ci_guards import (  # noqa: F401  (pytest hooks, registered by being here)
    pytest_collection_modifyitems,
    pytest_make_collect_report,
    pytest_runtest_makereport,
)

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


@pytest.fixture(autouse=True)
def _isolated_paths(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the working folder's index/, .cache/ or uploads/: env points into tmp."""
    base = tmp_path_factory.getbasetemp() / "default-paths"
    monkeypatch.setenv("ASSISTANT_PATHS__INDEX_DIR", str(base / "index"))
    monkeypatch.setenv("ASSISTANT_PATHS__CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("ASSISTANT_PATHS__UPLOADS_DIR", str(base / "uploads"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    """``n`` random L2-normalised float32 vectors (a fixed seed): stand-ins for embeddings."""
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a real ``assistant`` subprocess on ``settings``' index, cache and
    corpus (the caller's own ``ASSISTANT_*`` variables left out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return env | {
        "PYTHONPATH": str(REPO),
        "ASSISTANT_PATHS__INDEX_DIR": str(settings.paths.index_dir),
        "ASSISTANT_PATHS__CACHE_DIR": str(settings.paths.cache_dir),
        "ASSISTANT_PATHS__CORPUS_DIR": str(settings.paths.corpus_dir),
        **extra,
    }


def make_settings(root: Path, corpus: Path = CORPUS, **groups: dict[str, object]) -> Settings:
    """Settings whose paths all live under ``root`` (the corpus folder may be shared, read-only)."""
    paths = {
        "corpus_dir": corpus,
        "index_dir": root / "index",
        "cache_dir": root / "cache",
        "uploads_dir": root / "uploads",
    }
    return Settings(paths=paths, **groups)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    dest = tmp_path / "corpus"
    shutil.copytree(CORPUS, dest)
    return dest


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder(tmp_path_factory: pytest.TempPathFactory) -> CachedEmbedder:
    """The real all-MiniLM-L6-v2, loaded once, with a session-wide embedding cache."""
    cache = tmp_path_factory.mktemp("real-cache")
    return CachedEmbedder(SentenceTransformerEmbedder(), cache)


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="session")
def real_assistant(real_settings: Settings, real_embedder: CachedEmbedder) -> Assistant:
    """An Assistant over the real corpus and model (index built once per session)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return Assistant.load(real_settings, embedder=real_embedder)
