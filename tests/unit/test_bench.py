"""The benchmark's code paths at toy sizes, and the index policies it chose.

The smoke run uses the hash embedder and runs in-process, so every stage (ingestion, start-up,
index types, BM25, persistence, query latency) executes in seconds; the figures themselves
come from `make bench` (bench/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.benchmarks import BenchConfig, run_bench
from assistant.benchmarks._measure import percentiles
from assistant.benchmarks.history import HISTORY, TARGETS_END, TARGETS_START, record_run
from assistant.benchmarks.synthetic import BaseText, synthetic_corpus
from assistant.benchmarks.targets import figure, judge
from assistant.cli import app
from assistant.embeddings import HashEmbedder
from assistant.ingest import Ingestor
from assistant.retrieval import BM25Index, Retriever
from assistant.settings import RetrievalSettings
from assistant.store import load_snapshot
from assistant.store.sentences import SentenceTable
from tests.conftest import make_settings, unit_vectors

pytestmark = pytest.mark.unit


# Keys other runs and the history compare on: renaming one breaks the comparison across versions.
STABLE_KEYS = [
    ("ingestion", "ratio_cold"),
    ("ingestion", "ratio_warm"),
    ("ingestion", "cold_s"),
    ("ingestion", "warm_s"),
    ("ingestion", "raw_encode_s"),
    ("startup", "cli_ask_s"),
    ("startup", "load_s"),
    ("startup", "search", "ask", "p50_ms"),
    ("startup", "search", "ask", "p95_ms"),
    ("startup", "search", "hybrid", "p50_ms"),
    ("machine", "load_avg_1m"),
    ("machine", "load_avg_1m_end"),
]
SCALE_KEYS = [
    ("chunks",),
    ("index_type",),
    ("search", "ask", "p50_ms"),
    ("search", "hybrid_cached", "p50_ms"),
    ("serve", "load_s"),
    ("serve", "rss_mb"),
    ("persist", "disk_mb"),
    ("bm25", "build_s"),
    ("peak_rss_mb",),
]


def _has(results: dict, keys: tuple) -> bool:  # type: ignore[type-arg]
    node = results
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def test_smoke_run_writes_every_section(tmp_path: Path) -> None:
    config = BenchConfig(
        sizes=(300, 1500),
        out_dir=tmp_path / "out",
        queries=2,
        recall_queries=5,
        repeats=1,
        ann_from=1000,
        hnsw_up_to=1500,
        isolate=False,
        fake_model=True,
        dedup_papers=2_000,
        scifact_docs=None,
        scifact_path=_tiny_scifact(tmp_path),
        large_file_mb=0.2,
    )
    said: list[str] = []
    run_bench(config, make_settings(tmp_path), say=said.append)
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    ingestion = results["ingestion"]
    assert ingestion["chunks"] > 0 and ingestion["ratio_cold"] > 0
    assert "index_dir" not in ingestion  # temporary paths stay out of the committed file
    assert results["startup"]["chunks"] == ingestion["chunks"]
    assert [s["chunks"] for s in results["scale"]] == [300, 1500]
    small, large = results["scale"]
    assert set(small["index_types"]) == {"flat"}
    assert set(large["index_types"]) == {"flat", "ivf", "hnsw"}
    assert large["index_types"]["flat"]["recall_at_10"] == 1.0
    assert 0.0 <= large["index_types"]["ivf"]["recall_at_10"] <= 1.0
    assert large["persist"]["bm25_mb"] > 0 and large["persist"]["disk_mb"] > 0
    assert large["serve"]["rss_mb"] > 0 and large["serve"]["load_s"] >= 0
    for mode in ("dense", "bm25", "hybrid", "ask"):
        assert large["search"][mode]["n"] == 2
    table = (tmp_path / "out" / "results.md").read_text()
    assert "| 1,500 | ivf |" in table and "## Ingestion" in table
    assert said[-1].startswith("done")
    # the keys runs are compared on are all there, whatever the run measured
    assert [k for k in STABLE_KEYS if not _has(results, k)] == []
    for size in results["scale"]:
        assert [k for k in SCALE_KEYS if not _has(size, k)] == []
    assert results["startup"]["cli_ask_s"] is None  # not measured with the hash embedder
    assert len(results["targets"]) == 13 and results["commit"]
    big = results["large_file"]
    assert big["chunks"] > 10 and big["estimated_peak_mb"] >= big["pipeline_peak_mb"] > 0
    assert "## One 0.2 MB text file" in table
    assert results["dedup"]["papers"] == 2_000 and results["dedup"]["recall"] == 1.0
    assert results["scifact_ingest"]["abstracts"] == 3
    assert "## Version detection" in table and "## SciFact ingest: 3 of 3 abstracts" in table
    assert "not judged: measured at 2,000" in table and "not judged: measured at 3" in table
    assert "## Issue 15 targets" in table and "not judged: largest size 1,500" in table
    history = (tmp_path / "out" / "README.md").read_text()
    assert HISTORY in history
    assert history.count(f"| {results['commit']} | quick |") == 1


def _results(warm: float, ask_p50: float, largest: int = 1_000_000) -> dict:  # type: ignore[type-arg]
    return {
        "config": {"queries": 50},
        "machine": {"load_avg_1m": 0.5, "load_avg_1m_end": 1.25},
        "ingestion": {"ratio_cold": 0.91, "ratio_warm": warm},
        "startup": {"cli_ask_s": 2.1, "search": {"ask": {"p50_ms": ask_p50, "p95_ms": 35.0}}},
        "scale": [
            {"chunks": 1000, "search": {"ask": {"p50_ms": 9.0}}},
            {
                "chunks": largest,
                "search": {"ask": {"p50_ms": 38.0}},
                "serve": {"load_s": 4.5, "rss_mb": 2000.0},
            },
        ],
    }


def test_targets_say_met_or_by_how_much_they_missed() -> None:
    verdicts = {v.target.figure: v for v in judge(_results(warm=25.0, ask_p50=24.0))}
    assert verdicts["ingestion, warm rebuild: pipeline / raw"].note == "met"
    ask = verdicts["`ask` new question, corpus, p50"]
    assert ask.met is False and ask.note == "missed by 4 ms (20%)"
    load = verdicts["`Assistant.load` at 1M chunks"]
    assert load.met is False and load.note == "missed by 1.5 s (50%)"
    assert verdicts["serving RSS at 1M chunks"].met is True
    small = {v.target.figure: v for v in judge(_results(25.0, 15.0, largest=20_000))}
    assert small["serving RSS at 1M chunks"].met is None  # stated for 1M chunks only
    assert figure(_results(25.0, 15.0), ("scale", -1, "serve", "rss_mb")) == 2000.0
    assert figure({}, ("startup", "cli_ask_s")) is None


def test_each_run_appends_one_history_line(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        f"# Benchmarks\n\nIntro.\n\n{TARGETS_START}\nold table\n{TARGETS_END}\n\n"
        "## Results\n\nText.\n"
    )
    first = record_run(_results(warm=18.0, ask_p50=64.0), readme, commit="abc1234")
    record_run(_results(warm=25.0, ask_p50=15.0), readme, commit="def5678+")
    text = readme.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| 20")]
    assert len(rows) == 2 and text.count(HISTORY) == 1
    assert rows[0] == "| " + " | ".join(first) + " |"
    cells = [c.strip() for c in rows[1].strip("|").split("|")]
    assert cells[1:8] == ["def5678+", "full", "0.5 → 1.25", "0.91", "25.0", "2.10", "15.0 / 35.0"]
    assert cells[8:] == ["1,000,000", "38.0", "4.50 / 2,000", "7/8"]
    assert "old table" not in text and "missed by 1.5 s (50%)" in text  # targets refreshed
    assert text.index("## Results") < text.index(HISTORY)  # the section is added at the end
    section = text[text.index(HISTORY) :].splitlines()
    table = [line for line in section if line.startswith("|")]
    assert table[0].startswith("| date (UTC) | commit |") and table[2:] == rows


def test_synthetic_passages_point_into_their_papers() -> None:
    sentences = [f"Sentence number {i} talks about Chengdu and rail freight." for i in range(20)]
    base = BaseText(sentences, unit_vectors(20), ["Where is Chengdu?"])
    corpus = synthetic_corpus(250, base, seed=3)
    assert len(corpus.chunks) == 250 and len(corpus.documents) == 3
    for chunk in corpus.chunks:
        doc = corpus.documents[chunk.doc_id]
        assert doc.clean_text[chunk.start : chunk.end] == chunk.text
    assert np.allclose(np.linalg.norm(corpus.vectors, axis=1), 1.0, atol=1e-5)
    again = synthetic_corpus(250, base, seed=3)
    assert [c.text for c in again.chunks] == [c.text for c in corpus.chunks]


def test_synthetic_sentence_table_is_what_ingest_would_store() -> None:
    """The scale bench lays its sentence table out by arithmetic: it must equal the table
    ingest builds from the chunks (every span the answerer scores, the sentence's vector)."""
    sentences = [f"Sentence number {i} talks about Chengdu and rail freight" for i in range(12)]
    sentences += ["Trade grew by 10.9% a year.", "(Section 4) Exports doubled, e.g. in 2019"]
    vectors = unit_vectors(len(sentences))
    corpus = synthetic_corpus(250, BaseText(sentences, vectors, ["Where?"]), seed=5)
    rows = {t: i for i, t in enumerate(sentences)}

    def embed(texts: Sequence[str]) -> np.ndarray:
        return vectors[[rows[t] for t in texts]]

    built = SentenceTable.build(corpus.documents, corpus.chunks, embed, vectors.shape[1])
    table = corpus.sentences
    assert table.doc_ids == built.doc_ids and table.size == built.size > 250 * 2
    for doc_id in built.doc_ids:
        ours, theirs = table.doc_spans(doc_id), built.doc_spans(doc_id)
        np.testing.assert_array_equal(ours[:, :2], theirs[:, :2])
        np.testing.assert_array_equal(table.vectors[ours[:, 2]], built.vectors[theirs[:, 2]])


def test_percentiles_are_interpolated_in_milliseconds() -> None:
    stats = percentiles([i / 1000 for i in range(1, 101)])  # assistant.stats' definition
    assert (stats["p50_ms"], stats["p95_ms"], stats["n"]) == (50.5, 95.05, 100)


def test_bench_command_rejects_bad_sizes() -> None:
    result = CliRunner().invoke(app, ["bench", "--sizes", "1000,lots"])
    assert result.exit_code == 2
    assert "--sizes" in result.output


def test_keyword_index_is_saved_with_the_generation_and_memory_mapped(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    built, _ = Ingestor(settings, HashEmbedder()).run()
    loaded = load_snapshot(settings.paths.index_dir)
    assert loaded.path is not None and (loaded.path / "bm25" / "lexical.json").is_file()
    retriever = Retriever(loaded, HashEmbedder(), RetrievalSettings())
    assert isinstance(retriever.bm25.model.scores["data"], np.memmap)  # loaded, not rebuilt
    assert built.lexical is not None
    for query in ("Sichuan free trade zone", "science and technology innovation"):
        assert retriever.bm25.search(query, 10) == built.lexical.search(query, 10)


def test_a_keyword_index_from_other_chunks_is_rebuilt(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    Ingestor(settings, HashEmbedder()).run()
    loaded = load_snapshot(settings.paths.index_dir)
    assert loaded.path is not None
    assert BM25Index.load(loaded.path / "bm25", len(loaded.chunks) + 1) is None
    meta = loaded.path / "bm25" / "lexical.json"
    meta.write_text(meta.read_text().replace('"english"', '"porter"'))
    index = BM25Index.for_snapshot(loaded)
    assert index.size == len(loaded.chunks)
    assert not isinstance(index.model.scores["data"], np.memmap)  # built afresh from chunks


def _tiny_scifact(root: Path) -> Path:
    """Three abstracts in SciFact's corpus.jsonl form; the second a version of the first."""
    first, second, other = ([f"{w}{i}" for i in range(40)] for w in ("cell", "host", "soil"))
    rows = [
        {"_id": "1", "title": "Cytokines", "text": " ".join(first) + "."},
        {"_id": "2", "title": "Cytokines", "text": " ".join(first[:20] + second[:20]) + "."},
        {"_id": "3", "title": "Soil", "text": " ".join(other) + "."},
    ]
    path = root / "scifact.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_dedup_row_finds_every_planted_pair_and_agrees_with_quadratic() -> None:
    from assistant.benchmarks.dedup_scale import bench_dedup

    r = bench_dedup(3_000, make_settings(Path(".")), adds=20, samples=40)
    assert r["papers"] == 3_000 and r["planted_pairs"] > 100
    assert r["recall"] == 1.0 and r["agreement"] == 1.0
    assert r["pairs_found"] >= r["planted_pairs"] and r["add"]["n"] == 20
    assert r["detect_all_s"] == pytest.approx(r["build_s"] + r["relate_all_s"], abs=0.02)


def test_scifact_row_ingests_cold_and_warm(tmp_path: Path) -> None:
    from assistant.benchmarks.scifact_ingest import bench_scifact

    settings = make_settings(tmp_path)
    r = bench_scifact(tmp_path / "run", settings, docs=2, corpus=_tiny_scifact(tmp_path), fake=True)
    assert (r["abstracts"], r["of"], r["documents"]) == (2, 3, 2)
    assert r["chunks"] >= 2 and r["cold_cpu_s"] > 0 and r["raw_encode_cpu_s"] >= 0
    assert r["version_groups"] == 1  # abstract 2 keeps half of abstract 1
    missing = bench_scifact(tmp_path / "x", settings, corpus=tmp_path / "none.jsonl")
    assert missing == {"skipped": f"no SciFact corpus at {tmp_path / 'none.jsonl'}"}


def test_scifact_docs_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.benchmarks.scifact_ingest import ENV_DOCS, docs_from_env

    monkeypatch.delenv(ENV_DOCS, raising=False)
    assert docs_from_env(300) == 300
    for value, expected in (("all", None), ("5_183", 5183), ("0", 0)):
        monkeypatch.setenv(ENV_DOCS, value)
        assert docs_from_env(300) == expected
    monkeypatch.setenv(ENV_DOCS, "many")
    with pytest.raises(ValueError, match="'all' or a number"):
        docs_from_env()


def test_issue_21_targets_judged_only_at_their_size() -> None:
    def verdicts(papers: int, abstracts: int) -> dict[str, str]:
        results = {
            "dedup": {"papers": papers, "detect_all_s": 30.0, "add_p95_ms": 2000.0},
            "scifact_ingest": {"abstracts": abstracts, "cold_s": 250.0, "cpu_ratio": 1.5},
        }
        return {v.target.figure: v.note for v in judge(results)}

    full = verdicts(100_000, 5_183)
    assert full["version detection, 100k papers: build + all pairs"] == "met"
    assert full["version detection, 100k papers: add one paper, p95"].startswith("missed by")
    assert full["SciFact ingest (5,183 abstracts), cold"] == "met"
    assert full["SciFact ingest: CPU per chunk / raw encode"].startswith("missed by 0.2")
    small = verdicts(20_000, 300)
    assert small["version detection, 100k papers: build + all pairs"].startswith("not judged")
    assert small["SciFact ingest (5,183 abstracts), cold"] == "not judged: measured at 300"
    assert small["SciFact ingest: CPU per chunk / raw encode"].startswith("missed")
