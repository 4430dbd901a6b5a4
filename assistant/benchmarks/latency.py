"""Query latency through the public API, the way a user meets it.

Each question is new to the embedding cache when first timed, so ``dense``, ``hybrid`` and
``ask`` include encoding the question (the model's share, timed alone as ``encode``); the
``*_cached`` rows repeat the same questions with their vectors cached: what is left is the
pipeline's own cost. Questions are split three ways so no mode inherits another's cache.
"""

from __future__ import annotations

from typing import Any

from ..core import Assistant
from ..embeddings import Embedder
from ._measure import latencies, percentiles


def query_latencies(
    bot: Assistant, model: Embedder, questions: list[str], n: int
) -> dict[str, Any]:
    first, second, third = (questions[i::3][:n] for i in range(3))
    out: dict[str, Any] = {}
    out["encode"] = percentiles(latencies(lambda q: model.embed([q]), third))
    out["dense"] = percentiles(latencies(lambda q: bot.retrieve(q, mode="dense"), first))
    out["bm25"] = percentiles(latencies(lambda q: bot.retrieve(q, mode="bm25"), first))
    out["hybrid"] = percentiles(latencies(lambda q: bot.retrieve(q, mode="hybrid"), second))
    answers = []
    out["ask"] = percentiles(latencies(lambda q: answers.append(bot.ask(q)), third))
    out["ask"]["answered"] = round(sum(not a.abstained for a in answers) / max(1, len(answers)), 2)
    out["dense_cached"] = percentiles(latencies(lambda q: bot.retrieve(q, mode="dense"), first))
    out["hybrid_cached"] = percentiles(latencies(lambda q: bot.retrieve(q, mode="hybrid"), second))
    out["ask_cached"] = percentiles(latencies(bot.ask, third))
    return out
