"""Overview questions ("what are these papers about?", "what does the revised version
conclude?") answered from abstracts and conclusions, on a small corpus with the hash embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.answering.base import AnswerContext
from assistant.answering.overview import overview_answer, overview_papers, wants_overview
from assistant.embeddings import HashEmbedder
from assistant.types import Answer
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

PORTS = """Inland Ports and Regional Trade Growth

Li Ming

Department of Economics, Riverside University, Lanzhou, China

Abstract: Inland ports have become gateways for regional trade in western provinces. This \
paper examines how dry ports changed the volume and direction of regional trade between 2015 \
and 2020. We draw on customs records from four provinces and interviews with port managers.

Keywords: inland port; regional trade; logistics

1. Introduction

Trade in western provinces long depended on distant coastal harbours for every shipment. \
Dry ports promised to bring customs clearance closer to the factories that need it.

2. Findings

Trade volume through the four dry ports grew by a third over five years. Most of the growth \
came from electronics and machinery shipped by rail to Europe.

3. Conclusion

Dry ports shortened clearance times and widened the markets that inland firms can reach. \
Provinces should therefore link their ports to rail corridors before building new warehouses.
"""

# The same paper rendered again (other line breaks): recorded as an alias, never listed.
PORTS_COPY = PORTS.replace(" regional trade between", " regional trade\nbetween").replace(
    " shipped by rail", " shipped\nby rail"
)

RAIL_EARLY = """Freight Rail Corridors and Small Exporters

Chen Hua, Zhao Lin

Institute of Transport Studies, Eastfield, China

Abstract: Freight rail corridors now link inland cities with markets across Central Asia. \
This paper asks whether small exporters use these corridors or leave them to large firms. \
Early evidence from three cities suggests that small firms rarely book rail capacity.

1. Background

Rail corridors were opened with large state subsidies during the last decade. Their timetables \
were built around the needs of big manufacturers rather than small workshops.

2. Evidence

Small exporters booked few containers in the first years of operation. Brokers charged fees \
that small firms found hard to pay for occasional shipments.

3. Conclusion

Small exporters remain marginal users of the freight corridors in the early years. Brokers \
and high minimum volumes keep most small firms on road transport for now.
"""

RAIL_REVISED = """Freight Rail Corridors and Small Exporters Revisited

Chen Hua, Zhao Lin

Institute of Transport Studies, Eastfield, China

Abstract: A longer panel of bookings lets us revisit how small exporters use freight rail. \
This study follows bookings by small firms in five cities over seven years of operation. \
Shared containers and online booking changed the picture considerably after the first years.

1. Background

Container sharing schemes started in two cities and spread quickly to three others. Online \
platforms let a workshop book a fraction of a container without a broker.

2. Results

The share of rail bookings made by small firms rose from one in twenty to one in five. \
Cities with sharing schemes saw the fastest growth among first-time exporters.

3. Conclusion

Pooled containers turned freight rail into a realistic option for small exporters. Cities \
should support booking platforms, because they matter more than further price subsidies.
"""

# No abstract and no conclusion section: the introduction and the last section stand in.
MARKETS = """Night Markets in Mountain Towns

1. Introduction

Night markets draw visitors to mountain towns after the day trippers have gone home. This \
note describes how six towns organised their markets and what traders earned there.

2. Organisation

Town councils licensed the stalls and closed the main street to traffic after dark. Traders \
paid a small fee each season and shared the cost of lighting.

3. Earnings

Traders earned most on holiday weekends and little on rainy weekdays. Food stalls earned more \
than craft stalls in every town that reported figures.
"""

# Prose only: no sections, no title block.
MEMO = (
    "Warehouse rents rose sharply near the new logistics hub during the last three years. "
    "Several small firms moved their stock to villages further from the hub as a result.\n"
)

CATALOG = """
["ports.txt"]
title = "Inland Ports and Regional Trade Growth"
authors = ["Li Ming"]

["ports_copy.txt"]
title = "Inland Ports and Regional Trade Growth"
authors = ["Li Ming"]

["rail_early.txt"]
title = "Freight Rail Corridors and Small Exporters"
authors = ["Chen Hua", "Zhao Lin"]
work = "rail"
relation = "version"
version = "earlier"

["rail_revised.txt"]
title = "Freight Rail Corridors and Small Exporters Revisited"
authors = ["Chen Hua", "Zhao Lin"]
work = "rail"
relation = "version"
version = "revised"
"""

FILES = {
    "ports.txt": PORTS,
    "ports_copy.txt": PORTS_COPY,
    "rail_early.txt": RAIL_EARLY,
    "rail_revised.txt": RAIL_REVISED,
    "markets.txt": MARKETS,
}


def _assistant(root: Path, files: dict[str, str], catalog: str = CATALOG) -> Assistant:
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "catalog.toml").write_text(catalog, encoding="utf-8")
    return Assistant.load(make_settings(root, corpus), embedder=HashEmbedder())


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> AnswerContext:
    bot = _assistant(tmp_path_factory.mktemp("overview"), FILES)
    return AnswerContext(bot.snapshot)


@pytest.fixture(scope="module")
def memo_ctx(tmp_path_factory: pytest.TempPathFactory) -> AnswerContext:
    bot = _assistant(tmp_path_factory.mktemp("memo"), {"memo.txt": MEMO}, catalog="")
    return AnswerContext(bot.snapshot)


def _ask(question: str, ctx: AnswerContext) -> Answer | None:
    return overview_answer(question, wants_overview(question), [], ctx, "extractive")


def _exact(answer: Answer, ctx: AnswerContext) -> None:
    assert answer.citations
    for c in answer.citations:
        assert ctx.document(c.doc_id).clean_text[c.start : c.end] == c.quote
        assert c.quote in answer.text and f"[{c.marker}]" in answer.text
        assert c.passage.doc_id == c.doc_id
        assert c.passage.start <= c.start and c.end <= c.passage.end  # inside the cited chunk


def _quoted_docs(answer: Answer) -> list[str]:
    return list(dict.fromkeys(c.doc_id for c in answer.citations))


# -- detection ------------------------------------------------------------------------------

SUMMARY_QUESTIONS = [
    "What are these papers about?",
    "what is the paper about",
    "Summarise Wang Bing's paper",
    "summarize the papers",
    "Give me an overview of the papers",
    "what is the main argument of the FTZ paper",
    "What's the gist of the revised version?",
    "Can you give me a brief summary of each paper?",
    "tell me about the papers",
    "what topics do the papers cover",
    "what is the revised version about",
    "describe the earlier version",
    "What is the abstract of the FTZ paper?",
    "summarise",
    "what's this paper about",
    "What is the main point of the article?",
    "could you please summarise these papers in two sentences",
    "what do the authors argue",
    "Tell me what the paper is about.",
    "What is the purpose of the study?",
]
CONCLUSION_QUESTIONS = [
    "What does the revised version conclude?",
    "what do the papers conclude",
    "What are the main findings of the FTZ paper?",
    "what is the conclusion of Wang Bing's paper",
    "What conclusions do the authors draw?",
    "what are the key takeaways",
    "How does the FTZ paper conclude?",
    "what did the study find",
    "What's the conclusion?",
    "what are the findings of these papers",
    "Summarise the conclusions of the earlier version.",
    "what is the earlier version's conclusion",
    "What did Wang Bing conclude?",
    "what did the authors conclude in the revised version",
]
OTHER_QUESTIONS = [
    "What are the challenges facing Sichuan's science and technology cooperation?",
    "What does the paper say about tourism?",
    "what does the paper conclude about talent",
    "Summarise the challenges the FTZ faces",
    "Who wrote the FTZ paper?",
    "When was the Sichuan Pilot Free Trade Zone established?",
    "how many trains left Chengdu in 2018",
    "What is the main argument for opening up western China?",
    "give an overview of the financing problems of small enterprises",
    "what are the findings about trade volume",
    "What were the results of the reform?",
    "Which paper talks about free trade zones?",
    "Compare the conclusions of the earlier and revised versions",
    "what is the title of the paper",
    "What does the revised version say about talent training?",
    "what is the role of universities",
    "Who funded the study?",
    "what measures does the paper propose",
]


@pytest.mark.parametrize("question", SUMMARY_QUESTIONS)
def test_summary_questions_are_recognised(question: str) -> None:
    assert wants_overview(question) == "summary"


@pytest.mark.parametrize("question", CONCLUSION_QUESTIONS)
def test_conclusion_questions_are_recognised(question: str) -> None:
    assert wants_overview(question) == "conclusion"


@pytest.mark.parametrize("question", OTHER_QUESTIONS)
def test_ordinary_questions_are_not_overviews(question: str) -> None:
    assert wants_overview(question) is None


# -- answers --------------------------------------------------------------------------------


def test_summary_of_every_paper_quotes_each_abstract_once(ctx: AnswerContext) -> None:
    answer = _ask("What are these papers about?", ctx)
    assert answer is not None and not answer.abstained
    _exact(answer, ctx)
    # every indexed paper, the duplicate rendering left out
    indexed = {d.doc_id for d in ctx.snapshot.indexed_documents}
    assert len(indexed) == 4 and len(ctx.snapshot.documents) == 5  # one rendering is an alias
    assert set(_quoted_docs(answer)) == indexed
    for c in answer.citations:
        fields = ctx.front_matter(c.doc_id)
        abstract = next((f for f in fields if f.kind == "abstract"), None)
        if abstract is not None:
            assert abstract.start <= c.start and c.end <= abstract.end
    # the abstract's first sentence, then the one saying what the paper does
    assert "Inland ports have become gateways for regional trade in western provinces." in (
        answer.text
    )
    assert "This paper examines how dry ports changed" in answer.text
    assert "We draw on customs records" not in answer.text  # two sentences, not the abstract
    assert "“Freight Rail Corridors and Small Exporters Revisited” (revised version)" in (
        answer.text
    )
    # no abstract: the introduction's opening
    assert "Night markets draw visitors to mountain towns" in answer.text
    assert "from its introduction" in answer.text


def test_summary_of_a_paper_named_by_its_author(ctx: AnswerContext) -> None:
    answer = _ask("Summarise Li Ming's paper", ctx)
    assert answer is not None
    _exact(answer, ctx)
    (doc_id,) = _quoted_docs(answer)
    assert doc_id in ("ports.txt", "ports_copy.txt")
    assert answer.text.startswith("“Inland Ports and Regional Trade Growth”, from its abstract:")
    assert len(answer.text.split()) <= 130


def test_conclusion_of_the_revised_version(ctx: AnswerContext) -> None:
    answer = _ask("What does the revised version conclude?", ctx)
    assert answer is not None
    _exact(answer, ctx)
    assert _quoted_docs(answer) == ["rail_revised.txt"]
    doc = ctx.document("rail_revised.txt")
    (conclusion,) = [s for s in doc.sections if "Conclusion" in str(s[0])]
    assert all(int(conclusion[1]) <= c.start < int(conclusion[2]) for c in answer.citations)
    assert "Pooled containers turned freight rail into a realistic option" in answer.text
    assert "Cities should support booking platforms" in answer.text
    assert "Conclusion" not in [c.quote for c in answer.citations]  # not the heading


def test_earlier_version_by_its_authors_and_version_word(ctx: AnswerContext) -> None:
    answer = _ask("What did Chen Hua and Zhao Lin conclude in the earlier version?", ctx)
    assert answer is not None
    _exact(answer, ctx)
    assert _quoted_docs(answer) == ["rail_early.txt"]
    assert "Small exporters remain marginal users" in answer.text


def test_paper_named_by_title_words(ctx: AnswerContext) -> None:
    answer = _ask("What is the main argument of the night markets paper?", ctx)
    assert answer is not None
    _exact(answer, ctx)
    assert _quoted_docs(answer) == ["markets.txt"]
    # both versions share the title words: both are meant
    papers = overview_papers("Summarise the freight rail papers", ctx)
    assert papers is not None
    assert {d.doc_id for d in papers} == {"rail_early.txt", "rail_revised.txt"}


def test_conclusion_without_a_conclusion_section_uses_the_last_section(
    ctx: AnswerContext,
) -> None:
    answer = _ask("How does the night markets paper conclude?", ctx)
    assert answer is not None
    _exact(answer, ctx)
    assert "last section, “3. Earnings”" in answer.text
    assert "Traders earned most on holiday weekends" in answer.text


def test_conclusions_of_every_paper(ctx: AnswerContext) -> None:
    answer = _ask("what do the papers conclude", ctx)
    assert answer is not None
    _exact(answer, ctx)
    assert answer.text.startswith("What each paper concludes")
    assert len(_quoted_docs(answer)) == 4
    assert "Provinces should therefore link their ports to rail corridors" in answer.text


def test_none_when_nothing_fits(ctx: AnswerContext, memo_ctx: AnswerContext) -> None:
    # not an overview question
    assert _ask("What does the paper say about warehouses?", ctx) is None
    # a paper the corpus does not hold, by author or by title words
    assert _ask("Summarise Smith's paper", ctx) is None
    assert _ask("What is the quantum computing paper about?", ctx) is None
    # a version word where no paper has versions
    assert _ask("What does the revised version conclude?", memo_ctx) is None
    # a paper without sections has no conclusion to quote
    assert _ask("What does the paper conclude?", memo_ctx) is None


def test_paper_without_sections_is_summarised_from_its_opening(memo_ctx: AnswerContext) -> None:
    answer = _ask("What is this about?", memo_ctx)
    assert answer is not None
    _exact(answer, memo_ctx)
    assert "Warehouse rents rose sharply near the new logistics hub" in answer.text


def test_retrieved_passage_is_cited_when_it_holds_the_quote(ctx: AnswerContext) -> None:
    chunk = next(c for c in ctx.snapshot.chunks if "Pooled containers" in c.text)
    retrieved = ctx.passage_for(chunk).model_copy(update={"score": 0.9})
    question = "What does the revised version conclude?"
    answer = overview_answer(question, "conclusion", [retrieved], ctx, "extractive")
    assert answer is not None
    assert answer.citations[0].passage == retrieved
    assert answer.passages[0] == retrieved and answer.answerer == "extractive"


def test_many_papers_are_capped_and_the_answer_says_so(
    ctx: AnswerContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.answering import overview

    monkeypatch.setattr(overview, "MAX_PAPERS", 2)
    answer = _ask("Give me an overview of the papers", ctx)
    assert answer is not None
    _exact(answer, ctx)
    assert len(_quoted_docs(answer)) == 2
    assert "(the first 2 of 4 papers)" in answer.text.split("\n")[0]


def test_no_kind_means_no_overview(ctx: AnswerContext) -> None:
    assert overview_answer("What are these papers about?", None, [], ctx, "extractive") is None
