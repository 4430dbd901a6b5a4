"""``Assistant.as_retriever(papers=...)``: a LangChain retriever kept inside chosen papers."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.errors import PaperNotFoundError, QuestionError
from tests.llm_fixtures import tiny_assistant

pytestmark = pytest.mark.unit

QUERY = "Sichuan Pilot Free Trade Zone established in Chengdu"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return tiny_assistant(tmp_path_factory.mktemp("lc"))


def _ids(bot: Assistant) -> tuple[str, str]:
    papers = sorted(p.doc_id for p in bot.info().papers)
    a = next(p for p in papers if "paper_a" in p)
    b = next(p for p in papers if "paper_b" in p)
    return a, b


def test_without_papers_every_paper_is_searched(bot: Assistant) -> None:
    a, _ = _ids(bot)
    docs = bot.as_retriever(k=2).invoke(QUERY)
    assert docs[0].metadata["doc_id"] == a
    assert docs[0].metadata["pages"] is None  # a text paper


def test_papers_keep_the_search_inside_them(bot: Assistant) -> None:
    a, b = _ids(bot)
    docs = bot.as_retriever(k=5, papers=[b]).invoke(QUERY)  # the question is about paper a
    assert docs and {d.metadata["doc_id"] for d in docs} == {b}
    assert "Tianfu" in " ".join(d.page_content for d in docs)
    chunks_a = sum(1 for c in bot.snapshot.chunks if c.doc_id == a)
    both = bot.as_retriever(k=chunks_a + 5, papers=[a, b]).invoke(QUERY)
    assert {d.metadata["doc_id"] for d in both} == {a, b}


def test_retriever_matches_retrieve_with_the_same_papers(bot: Assistant) -> None:
    _, b = _ids(bot)
    docs = bot.as_retriever(k=3, papers=[b]).invoke(QUERY)
    passages = bot.retrieve(QUERY, k=3, papers=[b])
    assert [d.metadata["chunk_id"] for d in docs] == [p.chunk_id for p in passages]


def test_a_bad_choice_is_refused_when_the_retriever_is_made(bot: Assistant) -> None:
    with pytest.raises(PaperNotFoundError, match="index-info"):
        bot.as_retriever(papers=["no_such_paper.txt"])
    with pytest.raises(QuestionError, match="list of paper ids"):
        bot.as_retriever(papers="paper_a.txt")
    with pytest.raises(QuestionError, match="no paper chosen"):
        bot.as_retriever(papers=[])
