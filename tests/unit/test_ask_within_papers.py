"""Asking within chosen papers: ``papers=`` on ask/stream/retrieve, filtered inside each index.

A small inline corpus of three papers on overlapping topics, with the hash embedder: a search
within one paper returns only its chunks in every mode, an answer cites only it, and FAISS's
id selector ranks exactly as a search restricted by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Answer, Assistant
from assistant.embeddings import HashEmbedder
from assistant.errors import AssistantError, PaperNotFoundError, QuestionError
from assistant.retrieval.search import top_positive
from assistant.settings import StoreSettings
from assistant.store import FaissVectorStore
from tests.conftest import make_settings, unit_vectors

pytestmark = pytest.mark.unit

RAIL = """Rail Freight between Chengdu and Europe

Li Ming

1. Introduction

The rail freight service between Chengdu and Europe started in 2013. The free trade zone \
was established in April 2017. Rail freight trade grew by 40% in 2018. The trains carry \
electronics and machinery to Poland.

2. Logistics

Logistics costs for rail freight remain high because return trains often run empty. The rail \
port in Chengdu handles container trade with Europe.
"""

PORTS = """Sea Ports and Trade Growth

Zhang Wei

1. Ports

The sea ports of the coast handle most container trade. The free trade zone was \
established in March 2015. Port trade grew by 12% in 2018. Rail freight links connect \
the ports with inland cities.

2. Costs

Logistics costs at the ports fell after the new terminals opened in 2016.
"""

PARKS = """Science Parks along the Route

Wang Fang

1. Parks

The software park hosts more than 500 technology companies. Science parks cooperate with \
universities on joint laboratories; rail freight brings their equipment. The free trade \
zone was established in May 2009. Trade in technology grew by 8% in 2018.
"""

QUERY = "How much did rail freight trade grow in 2018?"
ASK = "When was the free trade zone established?"
CATALOG = """
["rail.txt"]
title = "Rail Freight between Chengdu and Europe"
authors = ["Li Ming"]

["ports.txt"]
title = "Sea Ports and Trade Growth"
authors = ["Zhang Wei"]

["parks.txt"]
title = "Science Parks along the Route"
authors = ["Wang Fang"]
"""
MODES = ("dense", "bm25", "hybrid")


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("within")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in (("rail.txt", RAIL), ("ports.txt", PORTS), ("parks.txt", PARKS)):
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "catalog.toml").write_text(CATALOG, encoding="utf-8")
    return Assistant.load(make_settings(root, corpus), embedder=HashEmbedder())


@pytest.mark.parametrize("mode", MODES)
def test_retrieve_within_one_paper_returns_only_its_chunks(bot: Assistant, mode: str) -> None:
    everywhere = bot.retrieve(QUERY, k=10, mode=mode)  # type: ignore[arg-type]
    assert len({p.doc_id for p in everywhere}) > 1  # unfiltered, other papers match too
    for doc in ("ports.txt", "parks.txt"):
        within = bot.retrieve(QUERY, k=10, mode=mode, papers=[doc])  # type: ignore[arg-type]
        assert within and {p.doc_id for p in within} == {doc}
        if mode == "dense":  # filtered inside the index: every chunk of it ranks, no shortfall
            assert len(within) == min(10, len(bot.snapshot.layout.positions(doc)))


def test_retrieve_within_two_papers(bot: Assistant) -> None:
    within = bot.retrieve(QUERY, k=10, papers=["ports.txt", "parks.txt"])
    assert {p.doc_id for p in within} == {"ports.txt", "parks.txt"}


def test_ask_within_one_paper_cites_only_that_paper(bot: Assistant) -> None:
    answer = bot.ask(ASK, papers=["parks.txt"])
    assert {p.doc_id for p in answer.passages} == {"parks.txt"}
    assert answer.citations and {c.doc_id for c in answer.citations} == {"parks.txt"}
    assert "2009" in answer.text
    final = list(bot.stream(ASK, papers=["ports.txt"]))[-1]
    assert isinstance(final, Answer)
    assert {p.doc_id for p in final.passages} == {"ports.txt"}
    assert final.citations and {c.doc_id for c in final.citations} == {"ports.txt"}
    assert "2015" in final.text


def test_a_question_naming_another_paper_still_searches_only_the_chosen(bot: Assistant) -> None:
    question = "When was the free trade zone in Li Ming's paper established?"
    plan = bot._plan(question, None, bot._state)
    assert plan.papers == ("rail.txt",)  # the question names the rail paper by its author
    assert {p.doc_id for p in bot.ask(question).passages} == {"rail.txt"}
    answer = bot.ask(question, papers=["ports.txt", "parks.txt"])
    assert {p.doc_id for p in answer.passages} <= {"ports.txt", "parks.txt"}
    assert {c.doc_id for c in answer.citations} <= {"ports.txt", "parks.txt"}
    named = bot.ask(question, papers=["rail.txt", "ports.txt"])  # the named one is chosen
    assert {p.doc_id for p in named.passages} == {"rail.txt"}


def test_unknown_papers_are_one_clear_error(bot: Assistant) -> None:
    with pytest.raises(PaperNotFoundError, match=r"'nope\.txt', 'gone'.*index-info"):
        bot.ask(QUERY, papers=["rail.txt", "nope.txt", "gone"])
    with pytest.raises(PaperNotFoundError, match="index-info"):
        bot.retrieve(QUERY, papers=["nope.txt"])
    with pytest.raises(AssistantError, match="index-info"):
        list(bot.stream(QUERY, papers=["nope.txt"]))


def test_an_empty_choice_is_an_error_not_every_paper(bot: Assistant) -> None:
    for call in (
        lambda: bot.ask(QUERY, papers=[]),
        lambda: bot.retrieve(QUERY, papers=[]),
        lambda: list(bot.stream(QUERY, papers=[])),
    ):
        with pytest.raises(QuestionError, match="choose at least one paper"):
            call()
    with pytest.raises(QuestionError, match="list of paper ids"):
        bot.ask(QUERY, papers="rail.txt")
    assert bot.check_papers(["rail.txt", "rail.txt"]) == ["rail.txt"]


def test_an_overview_within_papers_covers_only_them(bot: Assistant) -> None:
    answer = bot.ask("What are these papers about?", papers=["rail.txt", "parks.txt"])
    cited = {c.doc_id for c in answer.citations}
    assert cited and cited <= {"rail.txt", "parks.txt"}, answer.text


# -- the stores' own filters ---------------------------------------------------------------


def _exact_within(
    vectors: np.ndarray, rows: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    scores = queries @ vectors[rows].T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), rows[order]


@pytest.mark.parametrize(
    "settings",
    [
        StoreSettings(),  # exact (flat): FAISS's id selector
        StoreSettings(hnsw_threshold=100, ivf_nlist=16, ivf_nprobe=2),  # IVF, few rows: exact
        StoreSettings(hnsw_threshold=100, ann="hnsw"),
    ],
    ids=["flat", "ivf", "hnsw"],
)
def test_faiss_search_within_rows_equals_an_exact_search_restricted_by_hand(
    settings: StoreSettings,
) -> None:
    vectors = unit_vectors(2000, dim=16, seed=1)
    store = FaissVectorStore.build(vectors, settings)
    rows = np.sort(np.random.default_rng(2).choice(2000, 150, replace=False))
    queries = unit_vectors(5, dim=16, seed=3)
    scores, found = store.search(queries, 10, positions=rows)
    want_scores, want = _exact_within(vectors, rows, queries, 10)
    if store.kind == "hnsw":  # approximate: the hits must at least all be chosen rows
        assert np.isin(found, rows).all()
        return
    assert found.tolist() == want.tolist()
    np.testing.assert_allclose(scores, want_scores, atol=1e-5)


def test_faiss_search_within_fewer_rows_than_k() -> None:
    vectors = unit_vectors(50, dim=8)
    store = FaissVectorStore.build(vectors)
    scores, found = store.search(vectors[:1], 10, positions=np.array([7, 3]))
    assert sorted(found[0].tolist()) == [3, 7] and scores.shape == (1, 2)
    with pytest.raises(ValueError, match="positions"):
        store.search(vectors[:1], 3, doc_ids=["a.txt"])


def test_bm25_mask_keeps_only_allowed_positions() -> None:
    scores = np.array([0.0, 5.0, 3.0, 9.0, 3.0, 0.0, 7.0])
    assert top_positive(scores, 3) == [(3, 9.0), (6, 7.0), (1, 5.0)]
    allowed = np.array([0, 2, 4, 5])
    assert top_positive(scores, 3, allowed) == [(2, 3.0), (4, 3.0)]
    assert top_positive(scores, 3, np.array([0, 5], dtype=np.int64)) == []
