"""FAISS store: the index type follows the size; a saved IVF index is served from a read-only
memory map with the built index's results, and every writer path (grow a copy, rebuild from
rows, save) still works on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import HashEmbedder
from assistant.ingest import Ingestor
from assistant.settings import StoreSettings
from assistant.store import FaissVectorStore, load_snapshot
from tests.conftest import make_settings, unit_vectors

pytestmark = pytest.mark.unit

SETTINGS = StoreSettings(hnsw_threshold=500)


def _saved_ivf(tmp_path: Path, n: int = 2000) -> tuple[FaissVectorStore, Path, np.ndarray]:
    vectors = unit_vectors(n)
    built = FaissVectorStore.build(vectors, SETTINGS)
    assert built.kind == "ivf"
    path = tmp_path / "vectors.faiss"
    built.save(path)
    return built, path, vectors


def test_a_saved_ivf_is_mapped_and_answers_as_the_built_one(tmp_path: Path) -> None:
    built, path, vectors = _saved_ivf(tmp_path)
    loaded = FaissVectorStore.load(path)
    assert loaded.mapped_from == path and loaded.kind == "ivf" and loaded.size == len(vectors)
    queries = unit_vectors(7, seed=1)
    for a, b in zip(built.search(queries, 40), loaded.search(queries, 40), strict=True):
        np.testing.assert_array_equal(a, b)
    rows = np.array([0, 1234, len(vectors) - 1])
    np.testing.assert_array_equal(loaded.vectors(rows), vectors[rows])


def test_exact_indexes_are_read_whole(tmp_path: Path) -> None:
    FaissVectorStore.build(unit_vectors(100), SETTINGS).save(tmp_path / "flat.faiss")
    flat = FaissVectorStore.load(tmp_path / "flat.faiss")
    assert flat.kind == "flat" and flat.mapped_from is None
    grown = flat.extended(unit_vectors(5, seed=2), SETTINGS)
    assert (flat.size, grown.size) == (100, 105)


def test_growing_a_mapped_ivf_copies_it_and_leaves_it_untouched(tmp_path: Path) -> None:
    built, path, _ = _saved_ivf(tmp_path)
    loaded = FaissVectorStore.load(path)
    added = unit_vectors(30, seed=3)
    grown = loaded.extended(added, SETTINGS)
    expected = built.extended(added, SETTINGS)
    assert grown.mapped_from is None and loaded.size == 2000 and grown.size == 2030
    assert grown.index.nlist == loaded.index.nlist  # trained lists kept, not retrained
    queries = unit_vectors(5, seed=4)
    for a, b in zip(expected.search(queries, 40), grown.search(queries, 40), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(grown.vectors(np.arange(2000, 2030)), added)


def test_saving_a_mapped_ivf_writes_a_self_contained_file(tmp_path: Path) -> None:
    built, path, _ = _saved_ivf(tmp_path)
    copy = tmp_path / "next" / "vectors.faiss"
    copy.parent.mkdir()
    FaissVectorStore.load(path).save(copy)
    path.unlink()  # the copy must not point at the file it was mapped from
    again = FaissVectorStore.load(copy)
    queries = unit_vectors(5, seed=5)
    for a, b in zip(built.search(queries, 40), again.search(queries, 40), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_mapped_ivf_whose_file_was_pruned_still_grows(tmp_path: Path) -> None:
    _, path, vectors = _saved_ivf(tmp_path)
    loaded = FaissVectorStore.load(path)
    path.unlink()  # an old generation pruned by another process: the mapping stays readable
    grown = loaded.extended(unit_vectors(10, seed=6), SETTINGS)
    assert grown.size == 2010
    np.testing.assert_array_equal(grown.vectors(np.array([0, 1999])), vectors[[0, 1999]])


def test_adding_and_removing_papers_on_a_served_ivf_index(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy, store={"hnsw_threshold": 20})
    Ingestor(settings, HashEmbedder()).run()
    served = load_snapshot(settings.paths.index_dir, settings.store)
    assert served.store.kind == "ivf" and served.store.mapped_from is not None
    before = served.store.vectors()

    extra = tmp_path / "extra.txt"
    extra.write_text(
        "Chengdu Rail Notes\n\nThe Chengdu rail port opened a new freight line to Lodz. " * 3,
        encoding="utf-8",
    )
    added, report = Ingestor(settings, HashEmbedder()).run([extra])
    assert report.chunks > len(served.chunks)
    grown = load_snapshot(settings.paths.index_dir, settings.store)
    assert grown.store.size == report.chunks and grown.path != served.path
    np.testing.assert_array_equal(grown.store.vectors(np.arange(len(before))), before)
    np.testing.assert_array_equal(served.store.vectors(), before)  # the served one unchanged

    (corpus_copy / sorted(p.name for p in corpus_copy.glob("*.txt"))[0]).unlink()
    _, shrunk = Ingestor(settings, HashEmbedder()).run()
    assert load_snapshot(settings.paths.index_dir, settings.store).store.size == shrunk.chunks


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_a_truncated_ivf_file_is_refused_at_load_not_when_searched(
    tmp_path: Path, keep: float
) -> None:
    _, path, _ = _saved_ivf(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(RuntimeError):  # load_snapshot turns this into its recovery path
        FaissVectorStore.load(path)


def test_an_index_faiss_cannot_map_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faiss

    built, path, _ = _saved_ivf(tmp_path)
    read = faiss.read_index

    def no_mmap(name: str, flags: int = 0) -> object:
        if flags:
            raise RuntimeError("mmap not supported here")
        return read(name)

    monkeypatch.setattr(faiss, "read_index", no_mmap)
    loaded = FaissVectorStore.load(path)
    assert loaded.mapped_from is None and loaded.kind == "ivf"
    grown = loaded.extended(unit_vectors(3, seed=7), SETTINGS)  # cloned, as before mapping
    assert (loaded.size, grown.size) == (2000, 2003)
    queries = unit_vectors(3, seed=8)
    for a, b in zip(built.search(queries, 40), loaded.search(queries, 40), strict=True):
        np.testing.assert_array_equal(a, b)


def test_index_type_follows_size_and_rows_read_back() -> None:
    vectors = unit_vectors(3000)
    settings = StoreSettings(hnsw_threshold=2000)
    assert FaissVectorStore.build(vectors[:2000], settings).kind == "flat"
    ivf = FaissVectorStore.build(vectors, settings)
    assert ivf.kind == "ivf" and ivf.index.nlist == 64  # power of two nearest sqrt(3000)
    rows = np.array([5, 2999, 0])
    assert np.allclose(ivf.vectors(rows), vectors[rows])
    hnsw = FaissVectorStore.build(vectors, settings.model_copy(update={"ann": "hnsw"}))
    assert hnsw.kind == "hnsw"


def test_extending_keeps_the_old_store_and_crosses_the_threshold() -> None:
    vectors = unit_vectors(2100)
    settings = StoreSettings(hnsw_threshold=2000)
    flat = FaissVectorStore.build(vectors[:1900], settings)
    grown = flat.extended(vectors[1900:2000], settings)
    assert (flat.size, grown.size, grown.kind) == (1900, 2000, "flat")
    crossed = grown.extended(vectors[2000:], settings)
    assert crossed.kind == "ivf" and crossed.size == 2100
    assert np.allclose(crossed.vectors(np.array([0, 2099])), vectors[[0, 2099]])
    more = crossed.extended(vectors[:10], settings)  # same list count: trained lists reused
    assert more.kind == "ivf" and more.index.nlist == crossed.index.nlist and more.size == 2110
