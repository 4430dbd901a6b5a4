"""Questions naming a paper by its authors are filtered to that paper, names out of the query."""

from __future__ import annotations

import pytest

from assistant.retrieval.paper_hints import named_documents
from assistant.store import DocRecord

pytestmark = pytest.mark.unit


def _doc(doc_id: str, authors: list[str], version: str | None = None) -> DocRecord:
    return DocRecord(
        doc_id=doc_id, path=doc_id, title="t", content_hash="h", authors=authors, version=version
    )


DOCS = [
    _doc("001", ["Wang Bing"]),
    _doc("002", ["Liwei Zheng", "Siqiao Guo"], "earlier"),
    _doc("004", ["Liwei Zheng", "Siqiao Guo"], "revised"),
    _doc("003", []),
]


def test_author_names_select_the_paper_and_leave_the_query() -> None:
    hint = named_documents("What does Wang Bing's paper say about financial risk?", DOCS)
    assert hint.docs == {"001"}
    assert "Wang" not in hint.query and "Bing" not in hint.query
    assert "financial risk" in hint.query


def test_version_words_pick_the_version() -> None:
    assert named_documents("In the revised Zheng-Guo paper, what...", DOCS).docs == {"004"}
    assert named_documents("In the earlier version by Zheng and Guo?", DOCS).docs == {"002"}
    assert named_documents("What do Zheng and Guo recommend?", DOCS).docs == {"002", "004"}


def test_no_names_no_filter() -> None:
    hint = named_documents("When was the Sichuan FTZ established?", DOCS)
    assert hint.docs == frozenset() and hint.query == "When was the Sichuan FTZ established?"


def _scan_every_paper(question: str, documents: list[DocRecord]) -> tuple[set[str], str]:
    """The per-question scan PaperNames replaced: each paper's authors searched for in turn."""
    import re

    named: set[str] = set()
    query = question
    for doc in documents:
        for author in dict.fromkeys(doc.authors):
            names = [n for n in re.split(r"[\s\-]+", author) if len(n) > 1]
            if any(re.search(rf"\b{re.escape(n)}\b", question) for n in names):
                named.add(doc.doc_id)
                for n in names:
                    query = re.sub(rf"\b{re.escape(n)}(?:'s)?\b", " ", query)
    query = re.sub(r"\s+", " ", re.sub(r"(?<!\w)[&\-](?!\w)", " ", query)).strip()
    return named, query or question


def test_the_name_index_finds_what_a_scan_of_every_paper_finds() -> None:
    docs = [
        *DOCS,
        _doc("005", ["Seán O'Neil", "J. Smith-Jones"]),
        _doc("006", ["Ana María Núñez"]),
        _doc("007", ["Wang Lei"]),
    ]
    questions = [
        "What did O'Neil find about ports?",
        "Does Smith-Jones's paper discuss rail?",
        "Núñez on tariffs?",
        "What do Wang and Zheng say?",
        "Wangs and Bingo are not names here.",
        "What did smith find?",  # case matters, as before
        "Wang Bing's and Lei's views on trade?",
        "No author at all.",
    ]
    for q in questions:
        hint = named_documents(q, docs)
        named, query = _scan_every_paper(q, docs)
        assert (set(hint.docs), hint.query) == (named, query), q
