"""Sentence vectors pooled from their chunk's pass: the maths, the cache, the fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import CachedEmbedder, HashEmbedder
from assistant.embeddings.late import (
    embed_with_spans,
    pool_spans,
    sentence_vector_method,
    supports_spans,
)

pytestmark = pytest.mark.unit


def test_a_span_is_the_normalised_mean_of_the_tokens_it_overlaps() -> None:
    tokens = np.array([[9, 9], [1, 0], [0, 1], [3, 3], [9, 9]], np.float32)  # CLS .. SEP
    offsets = np.array([[0, 0], [0, 4], [5, 9], [10, 14], [0, 0]])
    got = pool_spans(tokens, offsets, 5, [(0, 9), (10, 14), (20, 30)])
    assert np.allclose(got[0], np.array([1, 1]) / np.sqrt(2))  # special tokens left out
    assert np.allclose(got[1], np.array([1, 1]) / np.sqrt(2))
    assert np.allclose(np.linalg.norm(got, axis=1), 1)  # a span no token covers: the mean


def test_padding_beyond_the_length_is_ignored() -> None:
    tokens = np.array([[1, 0], [0, 1], [100, 0]], np.float32)
    offsets = np.array([[0, 3], [4, 7], [0, 7]])
    (got,) = pool_spans(tokens, offsets, 2, [(0, 7)])
    assert np.allclose(got, np.array([1, 1]) / np.sqrt(2))


def test_the_cache_keeps_span_vectors_so_a_second_pass_encodes_nothing(tmp_path: Path) -> None:
    inner = HashEmbedder()
    cached = CachedEmbedder(inner, tmp_path)
    texts = ["Chengdu rail grew. Trains reached Lodz.", "Ports expanded in 2020."]
    spans = [[(0, 18), (19, 39)], [(0, 23)]]
    first, pooled = cached.embed_spans(texts, spans)
    calls = inner.calls
    again, pooled_again = CachedEmbedder(inner, tmp_path).embed_spans(texts, spans)
    assert inner.calls == calls
    assert np.array_equal(first, again)
    assert all(np.array_equal(a, b) for a, b in zip(pooled, pooled_again, strict=True))
    assert [p.shape for p in pooled] == [(2, 64), (1, 64)]
    # a new span of a cached text is worked out again (its vector depends on the text)
    cached.embed_spans(texts[:1], [[(0, 10)]])
    assert inner.calls == calls + 1


class _NoSpans:
    """An embedder without ``embed_spans`` (e.g. Ray workers)."""

    name, dimension, max_seq_length = "plain", 64, 256

    def __init__(self) -> None:
        self.inner = HashEmbedder()

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed(texts)


def test_an_embedder_without_spans_encodes_each_span_alone(tmp_path: Path) -> None:
    plain = _NoSpans()
    assert not supports_spans(plain) and sentence_vector_method(plain) == "separate"
    vectors, pooled = embed_with_spans(plain, ["one two. three four."], [[(0, 8), (9, 20)]])
    assert np.allclose(pooled[0], plain.embed(["one two.", "three four."]))
    assert vectors.shape == (1, 64)
    cached = CachedEmbedder(HashEmbedder(), tmp_path)
    assert sentence_vector_method(cached, "late") == "late-v2"
    assert sentence_vector_method(cached, "separate") == "separate"
