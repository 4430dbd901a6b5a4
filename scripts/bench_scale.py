"""Figures for README "When one machine is not enough": Milvus Lite vs FAISS, Ray vs one process.

    .venv/bin/python scripts/bench_scale.py milvus --n 100000
    .venv/bin/python scripts/bench_scale.py ray --repeat 4

Each prints one JSON object. The functions are importable by the benchmark harness:
``bench_milvus(100_000)`` and ``ray_throughput.ingest_throughput(settings, (1, 2))`` (in
``assistant.benchmarks``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.settings import StoreSettings
from assistant.stats import percentiles
from assistant.store import ChunkRecord, FaissVectorStore
from assistant.store.milvus import MilvusTarget, MilvusVectorStore


def _synthetic(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim), dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _chunks(n: int, docs: int = 1000) -> list[ChunkRecord]:
    return [
        ChunkRecord(f"doc{i % docs}.txt::{i:07d}::x", f"doc{i % docs}.txt", i, "s", "", 0, 1, 1)
        for i in range(n)
    ]


def _latency(search: Any, queries: np.ndarray, k: int) -> dict[str, float]:
    """Milliseconds per single-query search (what one user's question costs)."""
    times = []
    for q in queries:
        t0 = time.perf_counter()
        search(q[None, :], k)
        times.append((time.perf_counter() - t0) * 1000)
    return {f"{p}_ms": v or 0.0 for p, v in percentiles(times).items()}


def _rss_mb() -> float:
    """This process's resident memory (Linux); Milvus Lite's server runs inside it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1e3
    return float("nan")


def _disk_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def bench_milvus(
    n: int = 100_000,
    dim: int = 384,
    queries: int = 200,
    k: int = 10,
    seed: int = 0,
    threads: int | None = None,
) -> dict[str, Any]:
    """Build/insert time, query latency and on-disk size: exact FAISS vs Milvus Lite FLAT.

    ``threads`` caps FAISS's OpenMP threads (Milvus Lite searches with FAISS in this process
    too): on a busy machine 1 thread answers a single query far faster than spinning 2.
    """
    if threads:
        import faiss

        faiss.omp_set_num_threads(threads)
    vectors, probes = _synthetic(n, dim, seed), _synthetic(queries, dim, seed + 1)
    chunks = _chunks(n)
    out: dict[str, Any] = {"n": n, "dim": dim, "queries": queries, "k": k, "threads": threads}
    with tempfile.TemporaryDirectory() as tmp:
        t0, rss = time.perf_counter(), _rss_mb()
        # exact search: the reference Milvus is checked against (not the IVF used above 50k)
        flat = FaissVectorStore.build(vectors, StoreSettings(hnsw_threshold=n))
        out["faiss_build_s"] = time.perf_counter() - t0
        out["faiss_rss_mb"] = _rss_mb() - rss
        flat.save(Path(tmp) / "vectors.faiss")
        out["faiss_disk_mb"] = _disk_mb(Path(tmp) / "vectors.faiss")
        out["faiss"] = _latency(flat.search, probes, k)
        _, exact = flat.search(probes, k)
        for kind in ("flat", "hnsw"):
            out[f"milvus_{kind}"] = _milvus_run(Path(tmp), kind, chunks, vectors, probes, exact, k)
    return out


def _milvus_run(
    tmp: Path,
    kind: str,
    chunks: list[ChunkRecord],
    vectors: np.ndarray,
    probes: np.ndarray,
    exact: np.ndarray,
    k: int,
) -> dict[str, Any]:
    target = MilvusTarget(str(tmp / f"milvus-{kind}.db"), "bench")
    t0, rss = time.perf_counter(), _rss_mb()
    store = MilvusVectorStore.create(target, "synthetic", vectors.shape[1], hnsw=kind == "hnsw")
    store.insert(chunks, vectors, {})
    store.flush()
    out: dict[str, Any] = {"insert_s": time.perf_counter() - t0}
    store = store.view([c.chunk_id for c in chunks])
    store.search(probes[:1], k)  # first search builds/loads segment indexes
    out["first_search_s"] = time.perf_counter() - t0 - out["insert_s"]
    out["rss_mb"] = _rss_mb() - rss
    out["disk_mb"] = _disk_mb(Path(target.uri))
    out["latency"] = _latency(store.search, probes, k)
    out["doc_filter_latency"] = _latency(
        lambda q, kk: store.search(q, kk, doc_ids=["doc7.txt"]), probes[:50], k
    )
    _, got = store.search(probes, k)
    out["top_k_identical"] = float(
        np.mean([a.tolist() == b.tolist() for a, b in zip(exact, got, strict=True)])
    )
    out["recall_at_k"] = float(
        np.mean([len(set(a) & set(b)) / k for a, b in zip(exact, got, strict=True)])
    )
    store.client.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    m = sub.add_parser("milvus")
    m.add_argument("--n", type=int, default=100_000)
    m.add_argument("--queries", type=int, default=200)
    m.add_argument("--threads", type=int, default=None)
    r = sub.add_parser("ray")
    r.add_argument("--repeat", type=int, default=1)
    r.add_argument("--num-cpus", type=int, default=2)
    r.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    if args.what == "milvus":
        result = bench_milvus(args.n, queries=args.queries, threads=args.threads)
    else:
        from assistant import Settings
        from assistant.benchmarks.ray_throughput import ingest_throughput

        settings = Settings().with_updates(embedding={"ray_batch_size": args.batch_size})
        result = ingest_throughput(settings, (1, 2), args.repeat, num_cpus=args.num_cpus)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
