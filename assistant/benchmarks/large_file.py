"""One large text file through ingest: peak memory per MB of text (issue 20/21's 50 MB case).

The pipeline runs with the deterministic 384-d encoder (the real model would take an hour of
CPU for 50 MB here, and its own memory does not grow with the file: it encodes one batch at a
time), in its own process; the real model's memory for one full ingest batch is measured in
another. ``estimated_peak_mb`` adds the two (less the second process's bare interpreter).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from ..embeddings import HashEmbedder, SentenceTransformerEmbedder
from ..ingest import Ingestor
from ..settings import Settings
from ._measure import peak_rss_mb

# generic report vocabulary: the file's size and shape matter here, not its topic
_WORDS = (
    "study result method data model analysis effect group level change rate factor measure "
    "sample value system process policy region market network growth period report"
).split()


def write_text(path: Path, mb: float, seed: int = 0) -> Path:
    """A paper-shaped text of ``mb`` megabytes: numbered sections of prose paragraphs."""
    rng = random.Random(seed)
    size, n = 0, 0
    with path.open("w", encoding="utf-8") as f:
        f.write("A large report\n\nAbstract\n\n")
        while size < mb * 1024 * 1024:
            sentences = (
                " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 25))).capitalize() + "."
                for _ in range(rng.randint(3, 7))
            )
            para = " ".join(sentences)
            if n % 40 == 0:
                para = f"{n // 40 + 1}. Section {n // 40 + 1}\n\n{para}"
            f.write(para + "\n\n")
            size += len(para) + 2
            n += 1
    return path


def bench_large_file(root: Path, settings: Settings, mb: float) -> dict[str, Any]:
    """Ingest one ``mb`` MB file with the fake encoder; peak RSS of this process."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "corpus").mkdir(exist_ok=True)
    paper = write_text(root / "large.txt", mb)
    local = settings.with_updates(
        paths={
            "corpus_dir": root / "corpus",
            "index_dir": root / "index",
            "cache_dir": root / "cache",
            "uploads_dir": root / "uploads",
        },
        corpus={"max_file_mb": max(mb + 1, settings.corpus.max_file_mb)},
    )
    baseline = peak_rss_mb()
    started = time.perf_counter()
    _, report = Ingestor(local, HashEmbedder(dimension=384)).run([paper])
    return {
        "mb": mb,
        "chunks": report.chunks,
        "sentences": report.sentences,
        "seconds": round(time.perf_counter() - started, 1),
        "baseline_mb": baseline,
        "pipeline_peak_mb": peak_rss_mb(),
    }


def bench_model_memory(settings: Settings, fake: bool = False) -> dict[str, Any]:
    """Peak RSS of the real model encoding one ingest batch of chunk-length texts."""
    baseline = peak_rss_mb()
    if not fake:
        model = SentenceTransformerEmbedder(settings.embedding)
        text = " ".join(_WORDS * 12)  # past the 256 word pieces: a full-length chunk
        model.embed([text] * settings.embedding.batch_size * 4)
    return {"baseline_mb": baseline, "peak_mb": peak_rss_mb()}


def combine(pipeline: dict[str, Any], model: dict[str, Any]) -> dict[str, Any]:
    """The file's row: the pipeline's peak plus what the model adds to a process."""
    added = model["peak_mb"] - model["baseline_mb"]
    return {
        **pipeline,
        "model_mb": round(added, 1),
        "estimated_peak_mb": round(pipeline["pipeline_peak_mb"] + added, 1),
        "mb_per_text_mb": round(
            (pipeline["pipeline_peak_mb"] - pipeline["baseline_mb"]) / max(pipeline["mb"], 1e-9), 1
        ),
    }
