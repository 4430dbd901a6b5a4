"""One answer strategy per kind, each on a small inline corpus (hash embedder).

The reader's probabilities are set by hand here, so each test pins what a strategy does with
them: which sentences it quotes, in what order, and that every citation is exact.
"""

from __future__ import annotations

import re

import pytest

from assistant import Assistant
from assistant.answering.base import AnswerContext
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.strategies import (
    comparison,
    compound,
    factual,
    front_matter,
    listing,
    prose,
)
from assistant.answering.strategies.common import Reading
from assistant.embeddings import HashEmbedder
from assistant.retrieval.plan import make_plan
from assistant.settings import AnswerSettings
from assistant.types import Answer, Passage
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

ZONES = """Free Trade Zones in Western Provinces

1. Introduction

The Riverside Free Trade Zone was established in April 2017 in Lanzhou. Its founders hoped \
that customs reform would draw exporters inland. Local officials promoted the zone abroad \
because coastal rivals offered lower freight costs.

2. Measures

The paper proposes three measures for the zone. First, customs clearance should move online \
for every shipment. Second, rail freight should be subsidised for small exporters. Third, \
the zone should train brokers in the rules of its trading partners.

3. Results

Since 2013, a total of 5,000 freight trains left the zone for Europe. Exports grew quickly \
after the zone opened its rail terminal.

4. Challenges of the zone

4.1 Weak links to coastal ports

The zone depends on distant harbours for sea freight.

4.2 Shortage of trained brokers

Few brokers know the rules of the zone's trading partners.

4.3 High costs of rail freight

Rail freight costs more than road transport for small loads.

4.4 Slow customs clearance

Paper forms still slow down every shipment at the border.
"""

PORTS = """Dry Ports and Inland Exporters

1. Findings

Dry ports cut clearance times for inland exporters by half. Exporters near dry ports shipped \
more goods by rail than exporters elsewhere. Small exporters still relied on road transport \
for occasional loads.
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("strategies")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "zones.txt").write_text(ZONES, encoding="utf-8")
    (corpus / "ports.txt").write_text(PORTS, encoding="utf-8")
    return Assistant.load(make_settings(root, corpus), embedder=HashEmbedder())


@pytest.fixture(scope="module")
def ctx(bot: Assistant) -> AnswerContext:
    return AnswerContext(bot.snapshot)


def reading(
    bot: Assistant, ctx: AnswerContext, question: str, probabilities: dict[str, float]
) -> Reading:
    """Every sentence of the corpus as a candidate, read by the real feature code; the one
    holding each key of ``probabilities`` gets that probability, the others 0.01."""
    plan = make_plan(question)
    passages = [ctx.passage_for(c) for c in bot.snapshot.chunks]
    reader = ExtractiveAnswerer(bot.embedder)
    candidates = reader._candidates(passages, ctx)
    reader.read(plan.info, candidates, ctx, plan)
    for c in candidates:
        c.probability = next((p for k, p in probabilities.items() if k in c.text), 0.01)
    settings = AnswerSettings()
    return Reading(question, plan, passages, candidates, ctx, settings, reader.lexicon, "test")


def quotes(answer: Answer, ctx: AnswerContext) -> list[str]:
    """The citations' quotes, each checked exact: the cleaned text at its offsets, shown in
    the answer (page breaks read as spaces) right before its marker (a decline quotes it)."""
    out = []
    for c in answer.citations:
        assert c.quote == ctx.document(c.doc_id).clean_text[c.start : c.end]
        shown = re.escape(" ".join(c.quote.split())) + rf"”? \[{c.marker}\]"
        assert re.search(shown, " ".join(answer.text.split()))
        out.append(c.quote)
    return out


def test_factual_leads_with_the_span_then_the_whole_sentence(
    bot: Assistant, ctx: AnswerContext
) -> None:
    r = reading(bot, ctx, "When was the Riverside Free Trade Zone established?", {"April": 0.9})
    assert r.plan.kind == "date"
    answer = factual.answer(r)
    sentence = "The Riverside Free Trade Zone was established in April 2017 in Lanzhou."
    assert answer.text == f"April 2017 [1]\n\n{sentence} [1]"
    assert quotes(answer, ctx) == [sentence]  # the span's [1] is its sentence's citation
    assert not answer.abstained


def test_factual_declines_a_running_total_for_one_year_and_cites_it(
    bot: Assistant, ctx: AnswerContext
) -> None:
    question = "How many freight trains left the zone each year?"
    r = reading(bot, ctx, question, {"5,000 freight trains": 0.9})
    assert r.plan.scope.one_period and r.plan.scope.years == ()
    answer = factual.answer(r)
    assert answer.abstained
    assert "running total" in answer.text
    assert quotes(answer, ctx) == [
        "Since 2013, a total of 5,000 freight trains left the zone for Europe."
    ]


def test_factual_without_a_span_of_the_kind_declines(bot: Assistant, ctx: AnswerContext) -> None:
    r = reading(bot, ctx, "When did exports grow?", {"Exports grew quickly": 0.9})
    answer = factual.answer(r)
    assert answer.abstained and "No passage gives a date" in answer.text
    assert answer.citations == []


def test_a_list_from_sub_section_headings(bot: Assistant, ctx: AnswerContext) -> None:
    r = reading(bot, ctx, "What are the four challenges in section 4?", {"distant harbours": 0.9})
    answer = listing.from_sections(r)
    assert answer is not None
    head, *items = answer.text.split("\n")
    assert (
        head
        == "“Free Trade Zones in Western Provinces” lists these under “4. Challenges of the zone”:"
    )
    assert quotes(answer, ctx) == [
        "4.1 Weak links to coastal ports",
        "4.2 Shortage of trained brokers",
        "4.3 High costs of rail freight",
        "4.4 Slow customs clearance",
    ]
    assert all(item.startswith("- 4.") for item in items)


def test_a_list_of_another_number_of_items_is_not_the_sections(
    bot: Assistant, ctx: AnswerContext
) -> None:
    r = reading(bot, ctx, "What are the three challenges of the zone?", {"harbours": 0.9})
    assert listing.from_sections(r) is None


def test_a_list_from_an_enumeration(bot: Assistant, ctx: AnswerContext) -> None:
    r = reading(bot, ctx, "What measures does the paper propose?", {"Second, rail": 0.9})
    assert r.info.wants_list
    answer = listing.from_enumeration(r)
    assert answer is not None
    assert quotes(answer, ctx) == [
        "First, customs clearance should move online for every shipment.",
        "Second, rail freight should be subsidised for small exporters.",
        "Third, the zone should train brokers in the rules of its trading partners.",
    ]


def test_a_comparison_quotes_each_paper_under_its_title(bot: Assistant, ctx: AnswerContext) -> None:
    question = "How do the two papers differ on rail freight for small exporters?"
    r = reading(
        bot, ctx, question, {"Second, rail freight": 0.9, "Small exporters still relied": 0.8}
    )
    assert r.plan.kind == "comparison"
    answer = comparison.answer(r)
    lines = answer.text.split("\n")
    assert lines[0] == "“Free Trade Zones in Western Provinces”:"
    assert "“Dry Ports and Inland Exporters”:" in lines
    assert {c.doc_id for c in answer.citations} == {"zones.txt", "ports.txt"}
    quoted = quotes(answer, ctx)
    assert quoted[0] == "Second, rail freight should be subsidised for small exporters."
    assert "Small exporters still relied on road transport for occasional loads." in quoted


def test_prose_puts_the_most_probable_sentence_first_then_reading_order(
    bot: Assistant, ctx: AnswerContext
) -> None:
    r = reading(
        bot,
        ctx,
        "Why did officials promote the zone?",
        {"Local officials promoted": 0.9, "Its founders hoped": 0.6, "was established in": 0.5},
    )
    answer = prose.answer(r)
    assert quotes(answer, ctx) == [
        "Local officials promoted the zone abroad because coastal rivals offered lower "
        "freight costs.",
        "The Riverside Free Trade Zone was established in April 2017 in Lanzhou.",
        "Its founders hoped that customs reform would draw exporters inland.",
    ]


def test_compound_answers_each_part_and_names_the_unanswered(
    bot: Assistant, ctx: AnswerContext
) -> None:
    question = "Why was the zone set up, and who runs the zone today?"
    r = reading(bot, ctx, question, {"Its founders hoped": 0.9})
    assert r.info.compound and [p.text for p in r.plan.parts] == [
        "Why was the zone set up?",
        "who runs the zone today?",
    ]
    answer = compound.answer(r)
    assert (
        quotes(answer, ctx)[0]
        == "Its founders hoped that customs reform would draw exporters inland."
    )
    assert answer.notice == "The passages found do not answer “who runs the zone today?”."


def test_front_matter_declines_a_field_every_paper_states(
    bot: Assistant, ctx: AnswerContext
) -> None:
    plan = make_plan("Who are the authors of the paper?")
    assert plan.front_matter == "authors"
    answer = front_matter.answer(plan.text, plan, [], ctx, "test")
    assert answer is not None and answer.abstained
    assert "does not state its authors" in answer.text
    assert front_matter.answer("q", make_plan("Why do dry ports help?"), [], ctx, "t") is None


def test_front_matter_quotes_the_field_retrieval_put_first(
    bot: Assistant, ctx: AnswerContext
) -> None:
    plan = make_plan("What is the title of the paper?")
    assert plan.front_matter == "title"
    title = "Free Trade Zones in Western Provinces"
    start = ctx.document("zones.txt").clean_text.index(title)
    field = Passage(
        chunk_id="title",
        doc_id="zones.txt",
        text=title,
        start=start,
        end=start + len(title),
        field="title",
    )
    answer = front_matter.answer(plan.text, plan, [field], ctx, "test")
    assert answer is not None and answer.text == f"{title} [1]"
    assert answer.confidence == 1.0 and quotes(answer, ctx) == [title]
