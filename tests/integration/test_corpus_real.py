"""The real corpus with the real model: duplicates, versions, word-piece bound, offline load."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from assistant import Assistant
from assistant.chunking import embed_text
from tests.conftest import REPO

pytestmark = pytest.mark.integration


def test_renderings_are_aliased_and_versions_linked(real_assistant: Assistant) -> None:
    docs = {d.doc_id: d for d in real_assistant.documents()}
    assert docs["000_8bcc24135d439364.txt"].alias_of == "001_e32c79ad1fa0be66.txt"
    assert docs["001_e32c79ad1fa0be66.txt"].aliases == ["000_8bcc24135d439364.txt"]
    assert docs["002_b656026ce0905ff7.txt"].version_group is not None
    assert (
        docs["002_b656026ce0905ff7.txt"].version_group
        == docs["004_b411ba9664f361c8.txt"].version_group
    )
    assert docs["003_8f09d066e0b864c5.txt"].version_group is None
    indexed = {c.doc_id for c in real_assistant.snapshot.chunks}
    assert "000_8bcc24135d439364.txt" not in indexed and len(indexed) == 4


def test_no_chunk_exceeds_the_encoders_word_pieces(real_assistant: Assistant) -> None:
    embedder = real_assistant.embedder
    limit = embedder.max_seq_length
    counts = [
        embedder.count_wordpieces(embed_text(c.section, c.text))
        for c in real_assistant.snapshot.chunks
    ]
    assert max(counts) <= limit
    assert limit == 256


def test_vectors_are_normalised(real_assistant: Assistant) -> None:
    vecs = real_assistant.snapshot.store.vectors()
    assert vecs.shape[1] == 384
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)


def test_model_loads_with_hub_offline() -> None:
    code = (
        "from assistant.embeddings import SentenceTransformerEmbedder as E;"
        "v = E().embed(['Sichuan pilot free trade zone']); print(v.shape)"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "(1, 384)" in out.stdout
