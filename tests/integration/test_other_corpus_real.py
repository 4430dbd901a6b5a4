"""The assistant on papers from another field with an empty lexicon: SciFact abstracts
(biomedical) written as .txt papers. Nothing about the bundled corpus may be needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.embeddings import CachedEmbedder
from tests.conftest import make_settings

pytestmark = pytest.mark.integration

SCIFACT = Path(__file__).resolve().parents[1] / "data" / "scifact_subset.jsonl"  # its README
N_PAPERS = 120


@pytest.fixture(scope="module")
def scifact_assistant(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: CachedEmbedder
) -> Assistant:
    root = tmp_path_factory.mktemp("scifact")
    corpus = root / "papers"
    corpus.mkdir()
    with SCIFACT.open(encoding="utf-8") as f:
        for line, _ in zip(f, range(N_PAPERS), strict=False):
            doc = json.loads(line)
            text = f"{doc['title']}\n\nAbstract: {doc['text']}\n"
            (corpus / f"scifact_{doc['_id']}.txt").write_text(text, encoding="utf-8")
    assert not (corpus / "lexicon.toml").exists()  # an empty lexicon
    return Assistant.load(make_settings(root, corpus=corpus), embedder=real_embedder)


def test_lexicon_is_empty(scifact_assistant: Assistant) -> None:
    assert scifact_assistant.lexicon.synonyms == {}
    assert scifact_assistant.lexicon.generic == frozenset()


def test_answers_a_question_from_the_right_abstract(scifact_assistant: Assistant) -> None:
    answer = scifact_assistant.ask(
        "How does the apparent diffusion coefficient of cerebral white matter change in "
        "preterm infants?"
    )
    assert not answer.abstained, answer.text
    assert "diffusion coefficient" in answer.text
    assert answer.citations[0].doc_id == "scifact_4983.txt"
    cite = answer.citations[0]
    doc = scifact_assistant.snapshot.documents[cite.doc_id]
    assert doc.clean_text[cite.start : cite.end] == cite.quote


def test_title_is_front_matter_of_an_uploaded_abstract(scifact_assistant: Assistant) -> None:
    answer = scifact_assistant.ask(
        "What is the title of the paper on diffusion tensor imaging of newborn white matter?"
    )
    assert not answer.abstained
    assert answer.citations[0].passage.field == "title"
    assert "Microstructural development of human newborn cerebral white matter" in answer.text


def test_declines_an_off_corpus_person_question(scifact_assistant: Assistant) -> None:
    answer = scifact_assistant.ask("Who is the mayor of Chengdu?")
    assert answer.abstained
