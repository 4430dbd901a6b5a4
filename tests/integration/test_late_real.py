"""Late pooling with the real model: chunk vectors unchanged, sentences pooled in one pass."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Assistant
from assistant.chunking import embed_text
from assistant.embeddings import CachedEmbedder

pytestmark = pytest.mark.integration


def test_chunk_vectors_equal_plain_encoding_and_sentences_come_from_the_pass(
    real_assistant: Assistant, real_embedder: CachedEmbedder
) -> None:
    snap = real_assistant.snapshot
    assert snap.manifest is not None and snap.manifest.chunking["sentence_vectors"] == "late-v2"
    chunk = next(c for c in snap.chunks if c.text.count(". ") >= 3)
    text = embed_text(chunk.section, chunk.text)
    plain = real_embedder.inner.embed([text])  # no cache: the model itself
    vectors, pooled = real_embedder.inner.embed_spans([text], [[(0, len(text))]])
    assert float(vectors[0] @ plain[0]) > 0.9999
    # a sentence's stored vector is its pooled one: close to, not equal to, encoding it alone
    doc = snap.documents[chunk.doc_id]
    (start, end, row), *_ = [
        r
        for r in snap.sentences.doc_spans(chunk.doc_id).tolist()
        if chunk.start <= r[0] and r[1] <= chunk.end
    ]
    alone = real_embedder.inner.embed([doc.clean_text[start:end]])[0]
    stored = np.asarray(snap.sentences.vectors[row])
    assert 0.5 < float(stored @ alone) < 0.999
    assert abs(float(np.linalg.norm(stored)) - 1) < 1e-4
