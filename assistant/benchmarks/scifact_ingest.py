"""Ingest of a real second corpus: SciFact's 5,183 abstracts (or its first ``docs``), cold
and warm, against the bare model on the same texts.

The abstracts become papers as ``assistant eval --corpus`` makes them (title heading, blank
line, text; an empty lexicon), in a temporary folder. *Cold*: empty embedding cache and index,
through the ingest entry point (``assistant.ingest.ingest``). *Warm*: the same papers into a
second, empty index with the cache filled (what ``--rebuild`` pays). *Raw*: the model's bare
``encode`` over the chunk texts the ingest embedded. Ingest gets its sentence vectors by
pooling the chunk pass (``embed_spans``), so the issue's figure, CPU per chunk of the cold
ingest (sentences included) over CPU per chunk of the raw chunk encode, charges the
sentences to the pipeline. CPU seconds are the process's (all threads) and its children's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..chunking import embed_text
from ..embeddings import CachedEmbedder
from ..evaluation.corpora import EMPTY_LEXICON, LEXICON, read_jsonl_corpus
from ..settings import Settings
from ..store import load_snapshot
from ._measure import peak_rss_mb, timed
from .ingestion import _once_per_process, _sentence_texts, _TimedEmbedder, make_model, raw_encode

FULL = 5_183  # abstracts in SciFact's corpus.jsonl
SCIFACT = Path("../shared/datasets/scifact/corpus.jsonl")
ENV_DOCS = "BENCH_SCIFACT_DOCS"  # "all" or a number: how many abstracts `make bench` ingests
DEFAULT_DOCS = 300  # the full set takes many minutes: only when asked for


def docs_from_env(default: int | None = DEFAULT_DOCS) -> int | None:
    """``BENCH_SCIFACT_DOCS``: ``all`` (None: every abstract), a count, or ``0`` to skip."""
    value = os.environ.get(ENV_DOCS, "").strip().lower()
    if not value:
        return default
    if value == "all":
        return None
    try:
        return max(0, int(value.replace("_", "")))
    except ValueError:
        why = f"{ENV_DOCS} must be 'all' or a number of abstracts, not {value!r}"
        raise ValueError(why) from None


@dataclass
class _Clock:
    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def _clock() -> Iterator[_Clock]:
    clock = _Clock()
    wall, cpu = time.perf_counter(), _cpu()
    try:
        yield clock
    finally:
        clock.wall, clock.cpu = time.perf_counter() - wall, _cpu() - cpu


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class _SpanTimedEmbedder(_TimedEmbedder):
    """Also times ``embed_spans``, the call ingest encodes chunks and sentences with."""

    def embed_spans(self, texts: Any, spans: Any) -> Any:
        with timed() as t:
            out = self.inner.embed_spans(texts, spans)  # type: ignore[attr-defined]
        self.seconds += t.seconds
        return out


def _ingest_fn() -> Any:
    try:
        from ..ingest import ingest
    except ImportError:  # before the ingest package
        from ..indexing import ingest  # type: ignore[no-redef]
    return ingest


def bench_scifact(
    root: Path,
    settings: Settings,
    docs: int | None = DEFAULT_DOCS,
    corpus: Path = SCIFACT,
    fake: bool = False,
) -> dict[str, Any]:
    """Cold and warm ingest of the first ``docs`` abstracts (None: all) of ``corpus``."""
    if not corpus.is_file():
        return {"skipped": f"no SciFact corpus at {corpus}"}
    texts = read_jsonl_corpus(corpus)
    names = list(texts)[:docs] if docs is not None else list(texts)
    papers = root / "scifact" / "papers"
    papers.mkdir(parents=True, exist_ok=True)
    (papers / LEXICON).write_text(EMPTY_LEXICON, encoding="utf-8")
    for name in names:
        (papers / name).write_text(texts[name], encoding="utf-8")
    local = _settings(settings, root / "scifact", papers, "index")
    model = make_model(local, fake)
    raw_encode(model, ["warm-up"] * 16, local.embedding.batch_size)  # loads the weights
    _once_per_process(local)
    ingest = _ingest_fn()
    timer = _SpanTimedEmbedder(model)
    embedder = CachedEmbedder(timer, local.paths.cache_dir)  # type: ignore[arg-type]
    with _clock() as cold:
        report = ingest(None, settings=local, embedder=embedder)
    cold_model_s, cold_rss = timer.seconds, peak_rss_mb()
    snapshot = load_snapshot(local.paths.index_dir)
    chunk_texts = [embed_text(c.section, c.text) for c in snapshot.chunks]
    with _clock() as raw:
        raw_encode(model, chunk_texts, local.embedding.batch_size)
    warm_settings = _settings(settings, root / "scifact", papers, "index-warm")
    with _clock() as warm:
        ingest(None, settings=warm_settings, embedder=embedder)
    chunks = max(report.chunks, 1)
    return {
        "documents": report.documents,
        "abstracts": len(names),
        "of": len(texts),
        "chunks": report.chunks,
        "sentence_texts": len(_sentence_texts(snapshot)),
        "aliases": len(report.aliases),
        "version_groups": len(report.versions),
        "cold_s": round(cold.wall, 2),
        "cold_cpu_s": round(cold.cpu, 2),
        "cold_model_s": round(cold_model_s, 2),
        "warm_s": round(warm.wall, 2),
        "warm_cpu_s": round(warm.cpu, 2),
        "raw_encode_s": round(raw.wall, 2),
        "raw_encode_cpu_s": round(raw.cpu, 2),
        "cold_cpu_per_chunk_ms": round(1000 * cold.cpu / chunks, 2),
        "raw_cpu_per_chunk_ms": round(1000 * raw.cpu / chunks, 2),
        "cpu_ratio": round(cold.cpu / raw.cpu, 3) if raw.cpu > 0 else None,
        "cold_peak_rss_mb": cold_rss,
        "peak_rss_mb": peak_rss_mb(),
    }


def _settings(base: Settings, root: Path, papers: Path, index: str) -> Settings:
    return base.with_updates(
        paths={
            "corpus_dir": papers,
            "index_dir": root / index,
            "cache_dir": root / "cache",
            "uploads_dir": root / "uploads",
        },
        corpus={"lexicon_path": papers / LEXICON},
    )
