"""An ingest of many files killed halfway resumes without re-encoding what it finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.embeddings import CachedEmbedder, HashEmbedder
from assistant.ingest import Ingestor
from tests.conftest import REPO, make_settings

pytestmark = pytest.mark.unit

# The child: a slow deterministic encoder behind the real cache, progress to a file.
CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from assistant.embeddings import CachedEmbedder, HashEmbedder
    from assistant.ingest import Ingestor
    from tests.conftest import make_settings

    class Slow(HashEmbedder):
        def embed(self, texts):
            time.sleep(0.3)
            return super().embed(texts)

        def embed_spans(self, texts, spans):
            time.sleep(0.3)
            return super().embed_spans(texts, spans)

    root, papers, log = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    embedding = {"batch_size": 1, "sentence_vectors": sys.argv[4]}
    settings = make_settings(root, root / "empty", embedding=embedding)
    embedder = CachedEmbedder(Slow(), settings.paths.cache_dir)

    def progress(stage, done, total):
        with log.open("a") as f:
            f.write(json.dumps([stage, done, total]) + "\\n")

    Ingestor(settings, embedder, progress).run([papers])
    """
)


def _papers(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        body = " ".join(
            f"Paper {i} finding {j} concerns freight corridor {i * 7 + j}." for j in range(8)
        )
        (folder / f"paper{i:03d}.txt").write_text(f"Paper {i}\n\n{body}\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("sentence_vectors", ["separate", "late"])
def test_a_killed_ingest_resumes_without_re_encoding_finished_work(
    tmp_path: Path, sentence_vectors: str
) -> None:
    papers = _papers(tmp_path / "papers", 40)
    (tmp_path / "empty").mkdir()
    log = tmp_path / "progress.jsonl"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), str(papers), str(log), sentence_vectors],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and child.poll() is None:
        rows = [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []
        embedded = [d for stage, d, total in rows if stage == "embedding"]
        total = max((t for stage, _, t in rows if stage == "embedding"), default=0)
        if embedded and total and max(embedded) >= total // 2:
            done = max(embedded)
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    assert 0 < done < total, "the child was not stopped halfway through embedding"
    assert not (tmp_path / "index" / "CURRENT").exists()  # nothing was published

    embedding = {"batch_size": 1, "sentence_vectors": sentence_vectors}
    settings = make_settings(tmp_path, tmp_path / "empty", embedding=embedding)
    inner = HashEmbedder()
    snapshot, report = Ingestor(settings, CachedEmbedder(inner, settings.paths.cache_dir)).run(
        [papers]
    )
    assert report.chunks == total and len(report.added) == 40
    assert report.reused >= done  # every chunk encoded before the kill came from the cache
    assert report.embedded == total - report.reused
    if sentence_vectors == "late":  # sentences came with their chunks' pass, none alone
        assert report.embedded_sentences == 0 and inner.calls == report.embedded
