"""An external check of retrieval: BEIR SciFact through our own retriever, with published figures.

Each abstract becomes one chunk (title as its section), embedded with the real model and indexed
in memory with the same ``FaissVectorStore``, ``BM25Index`` and RRF fusion the assistant uses; the
paper pipeline (cleaning, chunking) is bypassed because BEIR documents are already clean. The
300 test queries are ranked to depth 100 and scored with ``ranx``.
SEE: Thakur et al. 2021, BEIR (NeurIPS Datasets & Benchmarks); ../shared/datasets/scifact/README.md
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..chunking import embed_text
from ..embeddings import Embedder
from ..errors import AssistantError
from ..retrieval import Retriever
from ..settings import RetrievalMode, Settings
from ..store import ChunkRecord, FaissVectorStore, IndexSnapshot

Progress = Callable[[str, int, int], None]

# Published SciFact test figures (nDCG@10, Recall@100), from the dataset README's table.
PUBLISHED: dict[str, tuple[float, float, str]] = {
    "bm25": (0.665, 0.908, "BM25, Elasticsearch multifield (BEIR paper)"),
    "dense": (0.64508, 0.925, "all-MiniLM-L6-v2 (MTEB paper)"),
}
METRICS = ("ndcg@10", "recall@100", "recall@10", "mrr@10")
_EMBED_BATCH = 256  # texts per cached call: progress is saved as it goes


@dataclass
class BeirData:
    """A BEIR collection: documents, the queries of one split, and their relevance judgements."""

    doc_ids: list[str]
    titles: list[str]
    texts: list[str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


@dataclass
class BeirResult:
    """Mean metrics per retrieval mode, with what it took to get them."""

    dataset: str
    queries: int
    documents: int
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def load_beir(path: Path, split: str = "test") -> BeirData:
    """Read ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv`` from a BEIR folder."""
    files = [path / "corpus.jsonl", path / "queries.jsonl", path / "qrels" / f"{split}.tsv"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise AssistantError(
            f"not a BEIR folder: {', '.join(missing)} missing; pass --beir DIR holding "
            "corpus.jsonl, queries.jsonl and qrels/test.tsv (e.g. ../shared/datasets/scifact)"
        )
    qrels = _read_qrels(files[2])
    queries = {q["_id"]: q["text"] for q in _read_jsonl(files[1]) if q["_id"] in qrels}
    docs = _read_jsonl(files[0])
    return BeirData(
        doc_ids=[str(d["_id"]) for d in docs],
        titles=[d.get("title", "") for d in docs],
        texts=[d.get("text", "") for d in docs],
        queries=queries,
        qrels={q: r for q, r in qrels.items() if q in queries},
    )


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    # csv handles the CRLF line endings of the BEIR files (see the dataset README)
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t")
        next(rows, None)  # header
        for row in rows:
            if len(row) >= 3 and int(row[2]) > 0:
                qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


def build_snapshot(
    data: BeirData, embedder: Embedder, progress: Progress | None = None
) -> IndexSnapshot:
    """One chunk per document, embedded in cached batches (a rerun embeds nothing)."""
    chunks = [
        ChunkRecord(
            chunk_id=d, doc_id=d, ordinal=0, section=t, text=x, start=0, end=len(x), tokens=0
        )
        for d, t, x in zip(data.doc_ids, data.titles, data.texts, strict=True)
    ]
    texts = [embed_text(c.section, c.text) for c in chunks]
    parts: list[np.ndarray] = []
    for i in range(0, len(texts), _EMBED_BATCH):
        if progress:
            progress("embedding", i, len(texts))
        parts.append(embedder.embed(texts[i : i + _EMBED_BATCH]))
    if progress:
        progress("embedding", len(texts), len(texts))
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), np.float32)
    store = FaissVectorStore.build(vectors)
    return IndexSnapshot(None, {}, chunks, store)  # in memory only: no manifest


def run_beir(
    path: Path,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    modes: tuple[RetrievalMode, ...] = ("dense", "bm25", "hybrid"),
    depth: int = 100,
    progress: Progress | None = None,
) -> BeirResult:
    """Rank every test query with each mode and score the runs with ranx."""
    settings = settings or Settings()
    embedder = embedder or _cached_model(settings)
    data = load_beir(path)
    t0 = time.perf_counter()
    snapshot = build_snapshot(data, embedder, progress)
    result = BeirResult(path.name, len(data.queries), len(data.doc_ids))
    result.seconds["index"] = round(time.perf_counter() - t0, 1)
    retriever = Retriever(snapshot, embedder, settings.retrieval)
    for mode in modes:
        t1 = time.perf_counter()
        run = _rank(retriever, data.queries, mode, depth)
        result.metrics[mode] = _score(data.qrels, run)
        result.seconds[mode] = round(time.perf_counter() - t1, 1)
    return result


def _cached_model(settings: Settings) -> Embedder:
    """The real model behind the embedding cache: a rerun embeds nothing."""
    from ..embeddings import make_embedder

    return make_embedder(settings, engine="local")


def _rank(
    retriever: Retriever, queries: dict[str, str], mode: RetrievalMode, depth: int
) -> dict[str, dict[str, float]]:
    # synthetic scores keep our exact order (RRF sums can tie, and ranx breaks ties its own way)
    run: dict[str, dict[str, float]] = {}
    for qid, text in queries.items():
        hits = retriever.retrieve(text, k=depth, mode=mode)
        run[qid] = {p.doc_id: float(depth - r) for r, p in enumerate(hits)}
    return run


def _score(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    from ranx import Qrels, Run, evaluate

    run = {q: r for q, r in run.items() if r}
    scores = evaluate(Qrels(qrels), Run(run), list(METRICS), make_comparable=True)
    return {m: round(float(scores[m]), 4) for m in METRICS}


def write_beir_report(result: BeirResult, out: Path) -> Path:
    """report.md and results.json for a BEIR run, measured figures next to published ones."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(
        json.dumps({**result.__dict__, "published": PUBLISHED}, indent=1), encoding="utf-8"
    )
    rows = []
    for mode, scores in result.metrics.items():
        ndcg, recall, source = PUBLISHED.get(mode, (None, None, "none published (RRF, k=60)"))
        rows.append(
            f"| {mode} | {scores['ndcg@10']:.4f} | {_pub(ndcg)} | {scores['recall@100']:.4f} | "
            f"{_pub(recall)} | {scores['recall@10']:.4f} | {scores['mrr@10']:.4f} | {source} |"
        )
    text = "\n".join(
        [
            f"# BEIR {result.dataset}: retrieval check",
            "",
            f"{result.queries} test queries over {result.documents:,} abstracts, each abstract one "
            "chunk (title as its section), ranked to depth 100 by the assistant's own retriever "
            "(FAISS dense, bm25s with Snowball stemming, RRF k=60); metrics by ranx.",
            "",
            "| mode | nDCG@10 | published | Recall@100 | published | Recall@10 | MRR@10 "
            "| reference |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Seconds: " + ", ".join(f"{k} {v}" for k, v in result.seconds.items()) + ".",
            "",
        ]
    )
    path = out / "report.md"
    path.write_text(text, encoding="utf-8")
    return path


def _pub(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "–"
