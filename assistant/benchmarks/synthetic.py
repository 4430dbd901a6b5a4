"""A corpus of any size made from the real papers, cheap enough to reach a million chunks.

Passages are random runs of 2-4 real sentences of the bundled papers; their vectors are the
matching weighted mix of the real sentence vectors plus a little noise, normalised. Only the
few hundred distinct sentences go through the model, so 1M chunks take seconds, yet dense
search sees the clustered, topic-shaped data a real corpus gives (a uniform random cloud
would make approximate search look easier than it is) and BM25 sees real words.

The sentences of a passage are separated by a blank line, so the answerer's splitter finds
exactly them (joined by a space, one without a full stop would merge with the next), and the
sentence table that ingest would store is the real sentence vectors, laid out by arithmetic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..corpus.cleaning import clean_text
from ..corpus.loading import load_document
from ..embeddings import Embedder
from ..ingest.sources import corpus_files
from ..sentences import sentence_spans
from ..settings import Settings
from ..store import ChunkRecord, DocRecord
from ..store.sentences import SentenceTable

_MIN_SENTENCE = 25  # characters: drops headings and fragments
_PER_DOC = 100  # chunks per synthetic paper
_NOISE = 0.01  # per-dimension noise, about 0.2 in norm at 384-d
_BLOCK = 100_000  # rows mixed at a time: bounds the temporary arrays
_JOIN = "\n\n"  # between the sentences of a passage: each is a paragraph to the splitter


@dataclass
class BaseText:
    """The real material: distinct corpus sentences, their vectors, and real questions."""

    sentences: list[str]
    vectors: np.ndarray
    questions: list[str]


@dataclass
class SyntheticCorpus:
    chunks: list[ChunkRecord]
    documents: dict[str, DocRecord]
    vectors: np.ndarray
    sentences: SentenceTable


def base_text(settings: Settings, embedder: Embedder) -> BaseText:
    """Sentences of the corpus folder's papers (embedded through the cache) and questions."""
    sentences: list[str] = []
    for path in corpus_files(settings.paths.corpus_dir):
        text = clean_text(load_document(path, settings.corpus.max_file_mb).text).text
        sentences.extend(text[a:b] for a, b in sentence_spans(text))
    unique = list(dict.fromkeys(s for s in sentences if len(s) >= _MIN_SENTENCE))
    if not unique:
        raise ValueError(f"no sentences in {settings.paths.corpus_dir}: the bench needs papers")
    return BaseText(unique, embedder.embed(unique), questions(unique))


def questions(sentences: list[str]) -> list[str]:
    """The gold questions of eval/gold_qa.jsonl, else openings of corpus sentences."""
    gold = Path("eval") / "gold_qa.jsonl"  # the checkout's, when run from its root
    if gold.is_file():
        with open(gold, encoding="utf-8") as f:
            found = [json.loads(line).get("question", "") for line in f if line.strip()]
        found = [q for q in found if q]
        if found:
            return found
    return [" ".join(s.split()[:8]) for s in sentences[::3]]


def synthetic_corpus(n: int, base: BaseText, seed: int = 0) -> SyntheticCorpus:
    """``n`` chunks in papers of 100, with offsets into each paper's text, and their vectors."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(2, 5, size=n)
    picks = rng.integers(0, len(base.sentences), size=(n, 4))
    weights = (0.5 + 0.5 * rng.random((n, 4), dtype=np.float32)) * (
        np.arange(4)[None, :] < counts[:, None]
    )
    texts = [
        _JOIN.join([base.sentences[j] for j in row[:c]])
        for row, c in zip(picks.tolist(), counts.tolist(), strict=True)
    ]
    chunks, documents = _papers(texts)
    table = _sentence_table(base, chunks, picks, counts)
    return SyntheticCorpus(chunks, documents, _mix(base.vectors, picks, weights, rng), table)


def _sentence_table(
    base: BaseText, chunks: list[ChunkRecord], picks: np.ndarray, counts: np.ndarray
) -> SentenceTable:
    """Row ``(start, end, pick)`` for each sentence of each chunk, in chunk order (which is
    paper order, then offset order); the vectors are the base sentences' own."""
    lengths = np.asarray([len(t) for t in base.sentences], dtype=np.int64)[picks]
    present = np.arange(picks.shape[1])[None, :] < counts[:, None]
    before = np.cumsum(lengths + len(_JOIN), axis=1) - (lengths + len(_JOIN))
    starts = np.asarray([c.start for c in chunks], dtype=np.int64)[:, None] + before
    spans = np.stack([starts, starts + lengths, picks.astype(np.int64)], axis=2)[present]
    per_doc = np.add.reduceat(counts.astype(np.int64), np.arange(0, len(chunks), _PER_DOC))
    doc_ids = list(dict.fromkeys(c.doc_id for c in chunks[::_PER_DOC]))
    offsets = np.concatenate([[0], np.cumsum(per_doc)]).astype(np.int64)
    return SentenceTable(doc_ids, offsets, spans, base.vectors.astype(np.float32, copy=False))


def _papers(texts: list[str]) -> tuple[list[ChunkRecord], dict[str, DocRecord]]:
    chunks: list[ChunkRecord] = []
    documents: dict[str, DocRecord] = {}
    for first in range(0, len(texts), _PER_DOC):
        doc_id = f"synthetic-{first // _PER_DOC:06d}.txt"
        part = texts[first : first + _PER_DOC]
        start = 0
        for ordinal, text in enumerate(part):
            end = start + len(text)
            chunk_id = f"{doc_id}::{ordinal:04d}::{first + ordinal:010x}"
            chunks.append(ChunkRecord(chunk_id, doc_id, ordinal, "", text, start, end, 0))
            start = end + 2
        clean = "\n\n".join(part)
        documents[doc_id] = DocRecord(
            doc_id=doc_id,
            path=doc_id,
            title=f"Synthetic paper {first // _PER_DOC}",
            content_hash=f"{first:064x}",
            clean_text=clean,
            segments=[[0, 0, len(clean)]],
            chunk_count=len(part),
        )
    return chunks, documents


def _mix(
    base: np.ndarray, picks: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Weighted sums of the picked sentence vectors plus noise, L2-normalised, in blocks."""
    out = np.empty((len(picks), base.shape[1]), dtype=np.float32)
    for lo in range(0, len(picks), _BLOCK):
        hi = min(lo + _BLOCK, len(picks))
        block = np.zeros((hi - lo, base.shape[1]), dtype=np.float32)
        for j in range(picks.shape[1]):
            block += weights[lo:hi, j, None] * base[picks[lo:hi, j]]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        block += _NOISE * rng.standard_normal(block.shape, dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[lo:hi] = block
    return out
