"""Sentence vectors stored at ingest change no answer: every gold question, both ways.

The fast path reads the candidate sentences' vectors from the index's sentence table; the old
path (the same index with the table taken away) embeds them at question time, through a fresh
embedding cache so they really are computed again. Both use the real model.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Assistant, Settings
from assistant.embeddings import CachedEmbedder
from tests.conftest import REPO, make_settings

pytestmark = pytest.mark.integration

_GOLD = REPO / "eval" / "gold_qa.jsonl"


def _questions() -> list[tuple[str, str]]:
    with open(_GOLD, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    return [(item["id"], item["question"]) for item in items]


@pytest.fixture(scope="module")
def two_paths(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: CachedEmbedder
) -> tuple[Assistant, Assistant]:
    """(fast, old): one real-model index of the bundled corpus, with and without its table."""
    root = tmp_path_factory.mktemp("fast-path")
    settings: Settings = make_settings(root)
    fast = Assistant.load(settings, embedder=real_embedder)
    assert fast.snapshot.sentences is not None and fast.snapshot.sentences.size > 0
    fresh = CachedEmbedder(real_embedder.inner, Path(root / "old-path-cache"))  # type: ignore[arg-type]
    old = Assistant(settings, replace(fast.snapshot, sentences=None), fresh)
    return fast, old


def _key(answer: Answer) -> dict[str, Any]:
    return {
        "text": answer.text,
        "abstained": answer.abstained,
        "confidence": None if answer.confidence is None else round(answer.confidence, 4),
        "citations": [(c.marker, c.doc_id, c.start, c.end, c.quote) for c in answer.citations],
    }


def test_every_gold_answer_is_unchanged_by_stored_sentence_vectors(
    two_paths: tuple[Assistant, Assistant],
) -> None:
    fast, old = two_paths
    questions = _questions()
    assert len(questions) >= 100
    inner = fast.embedder.inner  # type: ignore[attr-defined]
    differ: list[str] = []
    answered = 0
    encoded = {"fast": 0, "old": 0}
    for qid, question in questions:
        calls = inner.calls
        a = fast.ask(question)
        encoded["fast"] += inner.calls - calls
        calls = inner.calls
        b = old.ask(question)
        encoded["old"] += inner.calls - calls
        answered += not a.abstained
        if _key(a) != _key(b):
            differ.append(f"{qid}: fast {_key(a)} != old {_key(b)}")
    assert not differ, "\n".join(differ[:5])
    assert answered >= len(questions) // 2  # the comparison covers real answers
    # the fast path encoded questions only (each at most three times: as asked, as searched
    # without a paper's name, and its focus phrase for the reader); the old one every sentence
    # it had not met in an earlier answer
    assert encoded["fast"] <= 3 * len(questions) < encoded["old"] - 100
