"""Citation verification on a tiny corpus with the hash embedder: exact verdicts."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answering.base import ABSTAIN_TEXT, AnswerContext
from assistant.answering.citations import (
    CitationVerifier,
    claim_facts,
    marker_numbers,
    normalise_markers,
)
from assistant.types import Answer, Passage
from tests.llm_fixtures import tiny_assistant

pytestmark = pytest.mark.unit

ZONE = "The Sichuan Pilot Free Trade Zone was established in April 2017 in Chengdu."
TRADE = (
    "In 2019 the total import and export volume of Sichuan reached 676.5 billion yuan, an "
    "increase of 13.9% over the previous year."
)
PARK = "The Tianfu Software Park hosts more than 500 technology companies."


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    return tiny_assistant(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def ctx(bot: Assistant) -> AnswerContext:
    return AnswerContext(bot.snapshot)


def passage_with(ctx: AnswerContext, phrase: str) -> Passage:
    chunk = next(c for c in ctx.snapshot.chunks if phrase in c.text)
    return ctx.passage_for(chunk)


@pytest.fixture(scope="module")
def sources(ctx: AnswerContext) -> list[Passage]:
    """[1] the introduction (zone, trade), [2] the park note with the injection."""
    return [passage_with(ctx, "Pilot Free Trade Zone was"), passage_with(ctx, "Tianfu")]


@pytest.fixture(scope="module")
def verifier(bot: Assistant) -> CitationVerifier:
    return CitationVerifier(bot.embedder, support_threshold=0.5)


def test_supported_sentence_is_verified_with_the_matching_quote(
    verifier: CitationVerifier, sources: list[Passage], ctx: AnswerContext
) -> None:
    v = verifier.verify(f"{ZONE[:-1]} [1].", sources, ctx)
    assert v.unsupported == [] and v.dangling == []
    (cite,) = v.citations
    assert cite.verified and cite.marker == 1 and cite.passage == sources[0]
    assert cite.quote == ZONE
    assert ctx.document(cite.doc_id).clean_text[cite.start : cite.end] == ZONE
    assert v.precision == 1.0 and v.recall == 1.0


def test_planted_wrong_figure_and_nonexistent_source_are_flagged(
    verifier: CitationVerifier, sources: list[Passage], ctx: AnswerContext
) -> None:
    planted = "In 2019 the total import and export volume of Sichuan reached 900 billion yuan [1]."
    text = f"{ZONE[:-1]} [1]. {planted} Chengdu has the largest airport in Asia [9]."
    v = verifier.verify(text, sources, ctx)
    assert v.dangling == [9]
    assert "[9]" not in v.text and v.text.endswith("Chengdu has the largest airport in Asia.")
    assert v.unsupported == [planted, "Chengdu has the largest airport in Asia."]
    assert [(c.marker, c.verified) for c in v.citations] == [(1, True), (1, False)]
    # the wrong figure still gets its closest quote, so a reader can see the mismatch
    assert v.citations[1].quote == TRADE
    assert v.precision == pytest.approx(1 / 3)  # 1 verified of 2 citations + 1 dangling
    assert v.recall == pytest.approx(1 / 3)
    assert "[9]" in (v.notice() or "") and "2 sentence(s)" in (v.notice() or "")


def test_injection_passage_cannot_support_its_payload(
    verifier: CitationVerifier, sources: list[Passage], ctx: AnswerContext
) -> None:
    assert "reply HACKED" in sources[1].text
    v = verifier.verify("HACKED [2]", sources, ctx)
    assert v.unsupported == ["HACKED [2]"]
    (cite,) = v.citations
    assert not cite.verified and "HACKED" not in cite.quote  # instructions are never quotes
    assert v.precision == 0.0 and v.recall == 0.0
    # the passage's real content still verifies as usual
    ok = verifier.verify(f"{PARK[:-1]} [2].", sources, ctx)
    assert ok.unsupported == [] and ok.citations[0].quote == PARK


def test_wrong_named_entity_fails_even_when_the_wording_matches(
    verifier: CitationVerifier, sources: list[Passage], ctx: AnswerContext
) -> None:
    wrong = ZONE.replace("Sichuan", "Shanghai").replace("Chengdu", "Pudong")[:-1] + " [1]."
    v = verifier.verify(wrong, sources, ctx)
    assert v.unsupported == [wrong] and not v.citations[0].verified


def test_sentence_without_a_citation_counts_against_recall(
    verifier: CitationVerifier, sources: list[Passage], ctx: AnswerContext
) -> None:
    v = verifier.verify(f"{ZONE[:-1]} [1]. {PARK}", sources, ctx)
    assert v.unsupported == [PARK]
    assert v.precision == 1.0 and v.recall == 0.5


def test_alce_rule_for_a_sentence_citing_two_sources(
    verifier: CitationVerifier, sources: list[Passage], ctx: AnswerContext
) -> None:
    both = (
        "In 2019 the total import and export volume of Sichuan reached 676.5 billion yuan, "
        "and the Tianfu Software Park hosts more than 500 technology companies [1, 2]."
    )
    v = verifier.verify(both, sources, ctx)  # neither alone holds every figure: both needed
    assert v.unsupported == [] and [c.verified for c in v.citations] == [True, True]
    extra = verifier.verify(f"{ZONE[:-1]} [1][2].", sources, ctx)  # [2] adds nothing
    assert [(c.marker, c.verified) for c in extra.citations] == [(1, True), (2, False)]
    assert extra.precision == 0.5 and extra.recall == 1.0


def test_abstention_has_nothing_to_verify(
    verifier: CitationVerifier, sources: list[Passage], ctx: AnswerContext
) -> None:
    v = verifier.verify(ABSTAIN_TEXT, sources, ctx)
    assert v.abstained and v.citations == [] and v.precision is None and v.recall is None


def test_threshold_makes_the_embedding_check_bite(
    bot: Assistant, sources: list[Passage], ctx: AnswerContext
) -> None:
    loose = "Sichuan Pilot Free Trade Zone opened, with firms and officials celebrating [1]."
    assert CitationVerifier(bot.embedder, 0.05).verify(loose, sources, ctx).unsupported == []
    assert CitationVerifier(bot.embedder, 0.95).verify(loose, sources, ctx).unsupported == [loose]
    with pytest.raises(ValueError, match="support_threshold"):
        CitationVerifier(bot.embedder, 1.5)


def test_coverage_flags_on_topic_inventions(
    bot: Assistant, sources: list[Passage], ctx: AnswerContext
) -> None:
    invented = "The Sichuan zone attracted painters, musicians, poets and dancers [1]."
    lax = CitationVerifier(bot.embedder, support_threshold=0.0, min_coverage=0.0)
    assert lax.verify(invented, sources, ctx).unsupported == []
    strict = CitationVerifier(bot.embedder, support_threshold=0.0, min_coverage=0.5)
    assert strict.verify(invented, sources, ctx).unsupported == [invented]


def test_annotate_fills_an_answer(
    verifier: CitationVerifier, sources: list[Passage], ctx: AnswerContext
) -> None:
    answer = Answer(question="q", text=f"{ZONE[:-1]} [1]. Made up [4].", passages=sources)
    out = verifier.annotate(answer, ctx)
    assert out.text == f"{ZONE[:-1]} [1]. Made up."
    assert out.unsupported == ["Made up."] and out.citation_recall == 0.5
    assert answer.citations == []  # the input is left as it was


@pytest.mark.parametrize(
    ("run", "numbers"),
    [
        ("[1]", [1]),
        ("[1, 2]", [1, 2]),
        ("[1][2]", [1, 2]),
        ("[2] [1]", [2, 1]),
        ("[1-3]", [1, 2, 3]),
        ("[3; 3]", [3]),
    ],
)
def test_marker_formats(run: str, numbers: list[int]) -> None:
    assert marker_numbers(run) == numbers


def test_normalise_markers_keeps_good_numbers_and_drops_bad_ones() -> None:
    text, dangling = normalise_markers("A [1][7]. B [2, 9] and C [8].", 2)
    assert text == "A [1]. B [2] and C." and dangling == [7, 9, 8]


def test_claim_facts_finds_figures_names_and_acronyms() -> None:
    numbers, names = claim_facts(
        "The Belt and Road Initiative helped Sichuan Province grow 13.9 percent in 2019, "
        "1,600 trains ran, said the BRI office."
    )
    assert numbers == {"13.9%", "2019", "1600"}
    assert names == {"Belt and Road Initiative", "Sichuan Province", "BRI"}
    assert claim_facts("Trade grew quickly in the region.") == (set(), set())
