"""Start-up: a cold ``assistant ask`` in a fresh process, and ``Assistant.load`` in this one.

Runs on the index the ingestion bench built from the bundled papers, then times queries on
it (the ``corpus`` row of the search table).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..core import Assistant
from ..embeddings import CachedEmbedder, LocalEmbedder, make_embedder
from ..settings import Settings
from ._measure import latencies, peak_rss_mb, percentiles, timed
from .ingestion import make_model, serving_model
from .latency import query_latencies
from .synthetic import questions as gold_questions

_TIMEOUT_S = 300


def bench_startup(
    index_dir: Path,
    cache_dir: Path,
    settings: Settings,
    queries: int,
    repeats: int,
    cli: bool = True,
    fake: bool = False,
) -> dict[str, Any]:
    local = settings.with_updates(paths={"index_dir": index_dir, "cache_dir": cache_dir})
    asked = gold_questions([])
    # the keys exist in every run (None when not measured), so runs compare across versions
    out: dict[str, Any] = {"cli_import_s": None, "cli_ask_s": None, "cli_ask_runs_s": []}
    onnx = None if fake else _query_encoder(local)
    if cli:
        out.update(_cli_runs(local, asked[-repeats:], repeats))
    model = serving_model(local, cache_dir, fake)  # what `Assistant.load()` serves with
    with timed() as load:
        bot = Assistant.load(local, embedder=CachedEmbedder(model, cache_dir), build=False)
    with timed() as first:
        bot.ask(asked[-repeats - 1])
    out.update(
        load_s=round(load.seconds, 3),
        first_ask_s=round(first.seconds, 3),
        ready_s=round(load.seconds + first.seconds, 3),
        chunks=len(bot.snapshot.chunks),
        index_type=bot.snapshot.manifest.index_type if bot.snapshot.manifest else None,
    )
    out["search"] = query_latencies(bot, model, asked[: -(repeats + 1)], queries)
    if onnx is not None:  # torch on the questions timed as `encode` (the export serves those)
        third = asked[: -(repeats + 1)][2::3][:queries]
        torch_model = make_model(local)
        torch_model.embed(["load the model before timing"])
        out["search"]["encode_torch"] = percentiles(
            latencies(lambda q: torch_model.embed([q]), third)
        )
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def _query_encoder(settings: Settings) -> Any:
    """The ONNX question encoder ``assistant ingest`` leaves in the cache (exported if missing),
    so the CLI runs time the path a user's ``ask`` takes."""
    local = make_embedder(settings, engine="local").inner
    return local.query_encoder(export=True) if isinstance(local, LocalEmbedder) else None


def _cli_runs(settings: Settings, asked: list[str], repeats: int) -> dict[str, Any]:
    """Wall time of ``python -c 'import assistant.cli'`` and of ``assistant ask`` (subprocess)."""
    env = {
        **os.environ,
        "ASSISTANT_PATHS__INDEX_DIR": str(settings.paths.index_dir),
        "ASSISTANT_PATHS__CACHE_DIR": str(settings.paths.cache_dir),
        "ASSISTANT_PATHS__CORPUS_DIR": str(settings.paths.corpus_dir),
        "HF_HUB_OFFLINE": "1",
    }
    imports = [_wall([sys.executable, "-c", "import assistant.cli"], env) for _ in range(repeats)]
    asks = [
        _wall([sys.executable, "-m", "assistant.cli", "ask", question], env)
        for question in asked[:repeats]
    ]
    return {
        "cli_import_s": round(statistics.median(imports), 3),
        "cli_ask_s": round(statistics.median(asks), 3),
        "cli_ask_runs_s": [round(a, 3) for a in asks],
    }


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    with timed() as t:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=_TIMEOUT_S)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"`{' '.join(cmd[:4])} …` failed ({done.returncode}): {tail[0]}")
    return t.seconds
