"""Run every benchmark stage, each in a fresh process, and write bench/results.{json,md}.

A fresh process per stage gives each its own peak RSS and returns the memory of the 1M-chunk
stage to the system before the next one starts.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

from ..settings import Settings
from ._measure import machine
from .history import git_commit, record_run
from .report import markdown
from .targets import judge

T = TypeVar("T")
Say = Callable[[str], None]


@dataclass
class BenchConfig:
    """What to measure. ``quick`` is the smoke run (small sizes, few queries, one repeat)."""

    sizes: tuple[int, ...] = (1_000, 100_000, 1_000_000)
    out_dir: Path = Path("bench")
    queries: int = 50  # per mode and size
    recall_queries: int = 100  # real questions searched against each index type
    repeats: int = 3  # ingestion rounds and cold CLI starts
    ann_from: int = 10_000  # IVF and HNSW are tried from this size...
    hnsw_up_to: int = 100_000  # ...HNSW up to this one (it takes minutes to build at 1M)
    cli: bool = True  # time `assistant ask` in a subprocess
    isolate: bool = True  # each stage in a fresh process
    fake_model: bool = False  # hash embedder instead of the model: the bench's own tests
    dedup_papers: int = 100_000  # synthetic signatures for version detection (issue 21)
    # SciFact abstracts ingested (None: all 5,183, ~16 min; 0: skip); env BENCH_SCIFACT_DOCS
    scifact_docs: int | None = 300
    scifact_path: Path = Path("../shared/datasets/scifact/corpus.jsonl")
    large_file_mb: float = 50  # one text file this large through ingest (peak memory)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def quick(
        cls, sizes: tuple[int, ...] | None = None, out_dir: Path = Path("bench")
    ) -> BenchConfig:
        return cls(
            sizes=sizes or (1_000, 20_000),
            out_dir=out_dir,
            queries=5,
            recall_queries=20,
            repeats=1,
            dedup_papers=20_000,
            scifact_docs=50,
            large_file_mb=2,
        )


def run_bench(
    config: BenchConfig, settings: Settings | None = None, say: Say | None = None
) -> dict[str, Any]:
    """Measure, write ``results.json`` and ``results.md`` into ``config.out_dir``, add the run's
    line to the History of its ``README.md``, and return the results."""
    from .dedup_scale import bench_dedup
    from .ingestion import bench_ingestion
    from .large_file import bench_large_file, bench_model_memory, combine
    from .scale import bench_scale
    from .scifact_ingest import bench_scifact, docs_from_env
    from .startup import bench_startup

    settings = settings or Settings()
    say = say or (lambda message: None)
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="bri-bench-"))
    results: dict[str, Any] = {"config": _config(config), "machine": machine()}
    try:
        say("ingestion: cold, warm and raw encode on the bundled papers")
        ingestion = _stage(
            config, bench_ingestion, root, settings, config.repeats, config.fake_model
        )
        results["ingestion"] = ingestion
        say(f"start-up and corpus search ({_elapsed(started)})")
        results["startup"] = _stage(
            config,
            bench_startup,
            Path(ingestion.pop("index_dir")),
            Path(ingestion.pop("cache_dir")),
            settings,
            config.queries,
            config.repeats,
            config.cli and not config.fake_model,
            config.fake_model,
        )
        results["scale"] = []
        for n in config.sizes:
            say(f"{n:,} chunks ({_elapsed(started)})")
            results["scale"].append(
                _stage(
                    config,
                    bench_scale,
                    n,
                    root,
                    settings,
                    config.queries,
                    config.recall_queries,
                    (config.ann_from, config.hnsw_up_to),
                    config.fake_model,
                    config.isolate,
                )
            )
        say(f"version detection, {config.dedup_papers:,} papers ({_elapsed(started)})")
        results["dedup"] = _stage(config, bench_dedup, config.dedup_papers, settings)
        docs = docs_from_env(config.scifact_docs)
        if docs != 0:
            say(f"SciFact ingest, {docs or 'all'} abstracts ({_elapsed(started)})")
            results["scifact_ingest"] = _stage(
                config, bench_scifact, root, settings, docs, config.scifact_path, config.fake_model
            )
        if config.large_file_mb:
            say(f"one {config.large_file_mb:g} MB text file ({_elapsed(started)})")
            pipeline = _stage(
                config, bench_large_file, root / "large", settings, config.large_file_mb
            )
            model = _stage(config, bench_model_memory, settings, config.fake_model)
            results["large_file"] = combine(pipeline, model)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results["machine"]["load_avg_1m_end"] = machine()["load_avg_1m"]
    results["wall_s"] = round(time.perf_counter() - started, 1)
    results["commit"] = git_commit()
    results["targets"] = [v.as_dict() for v in judge(results)]
    _write(results, config.out_dir)
    record_run(results, config.out_dir / "README.md", results["commit"])
    say(f"done in {_elapsed(started)}: {config.out_dir / 'results.md'}")
    return results


def _stage(config: BenchConfig, fn: Callable[..., T], *args: Any) -> T:
    if not config.isolate:
        return fn(*args)
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def _config(config: BenchConfig) -> dict[str, Any]:
    data = asdict(config)
    data["out_dir"] = str(config.out_dir)
    data["sizes"] = list(config.sizes)
    data["scifact_path"] = str(config.scifact_path)
    return data


def _write(results: dict[str, Any], out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out_dir / "results.md").write_text(markdown(results), encoding="utf-8")


def _elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:.0f}s"
