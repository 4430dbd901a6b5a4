"""Late pooling with the real model: chunk vectors unchanged, sentences pooled in one pass,
and the reader trained on pooled vectors picked when the settings ask for them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.answering.factory import reader_settings
from assistant.answering.scorer import load_model
from assistant.chunking import embed_text
from assistant.embeddings import CachedEmbedder
from tests.conftest import CORPUS, make_settings

pytestmark = pytest.mark.integration


def test_chunk_vectors_equal_plain_encoding_and_sentences_come_from_the_pass(
    tmp_path: Path, real_embedder: CachedEmbedder
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "002_b656026ce0905ff7.txt", corpus)
    settings = make_settings(tmp_path, corpus, embedding={"sentence_vectors": "late"})
    bot = Assistant.load(settings, embedder=real_embedder)
    snap = bot.snapshot
    assert snap.manifest is not None and snap.manifest.chunking["sentence_vectors"] == "late-v2"
    assert reader_settings(settings).reader_model is not None  # the late-trained reader
    chunk = next(c for c in snap.chunks if c.text.count(". ") >= 3)
    text = embed_text(chunk.section, chunk.text)
    plain = real_embedder.inner.embed([text])  # no cache: the model itself
    vectors, _ = real_embedder.inner.embed_spans([text], [[(0, len(text))]])
    assert float(vectors[0] @ plain[0]) > 0.9999
    # a sentence's stored vector is its pooled one: close to, not equal to, encoding it alone
    assert snap.sentences is not None
    doc = snap.documents[chunk.doc_id]
    rows = snap.sentences.doc_spans(chunk.doc_id).tolist()
    start, end, row = next(r for r in rows if chunk.start <= r[0] and r[1] <= chunk.end)
    alone = real_embedder.inner.embed([doc.clean_text[start:end]])[0]
    stored = np.asarray(snap.sentences.vectors[row])
    assert 0.5 < float(stored @ alone) < 0.999
    assert abs(float(np.linalg.norm(stored)) - 1) < 1e-4
    late_reader = load_model(reader_settings(settings).reader_model)
    assert not np.array_equal(late_reader.selection.coef, load_model().selection.coef)
