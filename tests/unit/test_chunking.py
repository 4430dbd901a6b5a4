"""Chunks respect sections, sentences and both token bounds; ids are stable."""

from __future__ import annotations

import pytest

from assistant.chunking import Chunker, count_tokens, embed_text
from assistant.corpus.cleaning import clean_text
from assistant.sentences import sentence_spans
from assistant.settings import ChunkSettings
from tests.conftest import CORPUS

pytestmark = pytest.mark.unit

RAW_003 = (CORPUS / "003_8f09d066e0b864c5.txt").read_text(encoding="utf-8")


def _chunker(max_tokens: int = 120, overlap: int = 20, max_wp: int = 256) -> Chunker:
    words = lambda text: len(text.split()) + 2  # noqa: E731  (a fake word-piece counter)
    return Chunker(ChunkSettings(max_tokens=max_tokens, overlap_tokens=overlap), words, max_wp)


def test_chunks_stay_within_one_section_and_the_token_bound() -> None:
    doc = clean_text(RAW_003)
    chunks = _chunker().chunk("003", doc)
    assert len(chunks) > 20
    for c in chunks:
        assert count_tokens(c.text) <= 120
        section = next(s for s in doc.sections if s.title == c.section)
        assert c.end <= section.end
        # only the headings of empty parent sections may precede a section's own text
        titles = {s.title for s in doc.sections}
        prefix = doc.text[c.start : max(c.start, section.start)]
        assert all(line in titles for line in prefix.split("\n\n") if line.strip())
        assert doc.text[c.start : c.end] == c.text


def test_chunks_end_at_sentence_boundaries() -> None:
    doc = clean_text(RAW_003)
    spans = sentence_spans(doc.text)
    ends = {b for _, b in spans}
    for c in _chunker().chunk("003", doc):
        if c.end in ends:
            continue
        # only a sentence longer than the bound may be cut inside
        a, b = next((a, b) for a, b in spans if a <= c.end - 1 < b)
        assert count_tokens(doc.text[a:b]) > 120


def test_overlap_repeats_trailing_sentences() -> None:
    doc = clean_text(RAW_003)
    chunks = [
        c
        for c in _chunker(max_tokens=80, overlap=40).chunk("003", doc)
        if c.section.startswith("2.1.")
    ]
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False))


def test_word_piece_bound_splits_what_tokens_allow() -> None:
    doc = clean_text("1. Intro\n\n" + "Sichuan trade grew quickly in that year. " * 40)
    chunks = _chunker(max_tokens=400, overlap=0, max_wp=60).chunk("x", doc)
    for c in chunks:
        assert len(embed_text(c.section, c.text).split()) + 2 <= 60


def test_an_over_long_sentence_is_split_at_words() -> None:
    doc = clean_text("A " + "very long clause without any full stop, " * 80)
    chunks = _chunker(max_tokens=50, overlap=0).chunk("x", doc)
    assert len(chunks) > 5 and all(count_tokens(c.text) <= 50 for c in chunks)


def test_chunk_ids_are_stable_and_content_addressed() -> None:
    doc = clean_text(RAW_003)
    first = [c.chunk_id for c in _chunker().chunk("003", doc)]
    assert first == [c.chunk_id for c in _chunker().chunk("003", doc)]
    assert len(set(first)) == len(first)
    assert first[0].startswith("003::0000::")


def test_overlap_must_be_smaller_than_chunk() -> None:
    with pytest.raises(ValueError, match="overlap_tokens"):
        _chunker(max_tokens=50, overlap=50)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.txt")))
def test_default_settings_hold_the_token_bound_on_every_paper(name: str) -> None:
    settings = ChunkSettings()
    words = lambda text: len(text.split()) + 2  # noqa: E731
    doc = clean_text((CORPUS / name).read_text(encoding="utf-8"))
    for c in Chunker(settings, words, 10_000).chunk(name, doc):
        assert count_tokens(c.text) <= settings.max_tokens
