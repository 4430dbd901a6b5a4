"""Sentence vectors pooled from their chunk's forward pass ("late chunking"), not re-encoded.

Ingest needs a vector per chunk (retrieval) and per sentence (the reader). Encoding each
sentence on its own sent every token through the model twice; here the chunk is encoded once
(its vector is the usual mean over all its tokens, identical to ``SentenceTransformer.encode``)
and each sentence's vector is the mean of the chunk's contextual token vectors inside the
sentence's characters, less ``CONTEXT_SHARE`` of the chunk's mean, L2-normalised.

Why the subtraction: plain pooled vectors carry their chunk's context, so sentences of one
chunk look alike and the reader picked the wrong one more often (gold test key facts .600 ->
.530 with a retrained reader). Removing 0.3 of the shared component (chosen on dev questions:
the gold sentence ranked first within its chunk .549 encoded alone, .624 pooled, .654 at 0.3)
kept the gold test within one question (.589) and lifted the everyday test (.364 -> .409).
Measured cost and quality: bench/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CONTEXT_SHARE = 0.3
Span = tuple[int, int]  # character offsets into the encoded text


def pool_spans(
    tokens: np.ndarray, offsets: np.ndarray, length: int, spans: Sequence[Span]
) -> np.ndarray:
    """Mean of the token vectors (``tokens[:length]``) overlapping each span, normalised.

    ``offsets`` are the tokenizer's (start, end) per token; special tokens have (0, 0). A
    span no token overlaps (only whitespace) gets the whole text's mean.
    """
    tokens, offsets = tokens[:length], offsets[:length]
    real = offsets[:, 1] > offsets[:, 0]
    out = np.empty((len(spans), tokens.shape[1]), np.float32)
    whole = tokens.mean(axis=0)
    for i, (a, b) in enumerate(spans):
        inside = real & (offsets[:, 0] < b) & (offsets[:, 1] > a)
        out[i] = tokens[inside].mean(axis=0) if inside.any() else whole
    return normalise(out)


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def encode_with_spans(
    model,  # type: ignore[no-untyped-def]  # a loaded SentenceTransformer
    texts: Sequence[str],
    spans: Sequence[Sequence[Span]],
    batch_size: int,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """One forward pass per text: its vector and its spans' vectors (see the module doc)."""
    import torch

    tokenizer, transformer = model.tokenizer, model[0].auto_model
    max_length = int(model.max_seq_length)
    dim = int(transformer.config.hidden_size)
    vectors = np.empty((len(texts), dim), np.float32)
    pooled: list[np.ndarray] = [np.empty((0, dim), np.float32)] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding per batch
    for s in range(0, len(order), batch_size):
        batch = order[s : s + batch_size]
        enc = tokenizer(
            [texts[i] for i in batch],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping").numpy()
        with torch.inference_mode():
            hidden = transformer(**enc).last_hidden_state.float().numpy()
        lengths = enc["attention_mask"].sum(dim=1).numpy()
        for row, i in enumerate(batch):
            n = int(lengths[row])
            vectors[i] = hidden[row, :n].mean(axis=0)
            # the chunk's shared component, partly removed: sentences of one chunk stay apart
            pooled[i] = pool_spans(
                hidden[row] - CONTEXT_SHARE * vectors[i], offsets[row], n, spans[i]
            )
    return normalise(vectors), pooled


def supports_spans(embedder: object) -> bool:
    """Whether the embedder (or the one a cache wraps) pools span vectors in its pass."""
    inner = getattr(embedder, "inner", embedder)
    return hasattr(embedder, "embed_spans") and hasattr(inner, "embed_spans")


def sentence_vector_method(embedder: object, wanted: str = "late") -> str:
    """Recorded in the manifest: sentence vectors from another method mean a re-embed.
    ``wanted`` is the setting (``embedding.sentence_vectors``); late needs an embedder that
    pools spans (the local model), others encode each sentence on its own."""
    return "late-v2" if wanted == "late" and supports_spans(embedder) else "separate"


def embed_with_spans(
    embedder,
    texts: Sequence[str],
    spans: Sequence[Sequence[Span]],  # type: ignore[no-untyped-def]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``embedder.embed_spans`` when it has one; else each span's text encoded on its own
    (Ray workers): the same shapes, the old cost."""
    if supports_spans(embedder):
        return embedder.embed_spans(texts, spans)  # type: ignore[no-any-return]
    vectors = embedder.embed(list(texts))
    flat = [t[a:b] for t, s in zip(texts, spans, strict=True) for a, b in s]
    encoded = embedder.embed(flat) if flat else np.zeros((0, vectors.shape[1]), np.float32)
    pooled, at = [], 0
    for s in spans:
        pooled.append(encoded[at : at + len(s)])
        at += len(s)
    return vectors, pooled
