"""Find passages: dense (FAISS), lexical (bm25s), or both fused by reciprocal rank fusion.

Near-identical passages from versions of one work are collapsed into one result that lists
the other versions; MMR can diversify. Queries are normalised first (quotes, case, and the
corpus lexicon's synonyms), so an abbreviation finds the phrase the papers spell out.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from ..chunking import embed_text
from ..corpus.front_matter import Field, FrontMatterCache
from ..corpus.lexicon import EMPTY, Lexicon
from ..corpus.pages import PageFinder
from ..embeddings import Embedder
from ..settings import RetrievalMode, RetrievalSettings
from ..store import LEXICAL_DIR, ChunkRecord, IndexSnapshot
from ..types import Passage
from .paper_hints import PaperNames

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def normalise_query(query: str, lexicon: Lexicon | None = None) -> str:
    """Clean a query and append the lexicon's phrases for the aliases it uses."""
    q = unicodedata.normalize("NFKC", query)
    q = _CONTROL.sub(" ", q)
    q = q.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    q = re.sub(r"\s+", " ", q).strip()
    return (lexicon or EMPTY).expand_query(q)


@dataclass
class _Scored:
    position: int
    score: float
    scores: dict[str, float]


class BM25Index:
    """bm25s over chunk texts (section title included), English stop words, Snowball stems.

    Built once by ingest and saved in the index generation (``bm25/``: bm25s's JSON and
    ``.npy`` files, no pickle), then memory-mapped at load: at 1M chunks building it takes
    minutes, loading it milliseconds (bench/README.md).
    """

    _FORMAT = {"format": 1, "stopwords": "en", "stemmer": "english", "text": "embed_text"}

    def __init__(self, texts: list[str], model: Any | None = None) -> None:
        import Stemmer

        bm25s = import_bm25s()

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self._lock = threading.Lock()
        self.size = len(texts)
        self.model: Any = model if model is not None else bm25s.BM25()
        if texts and model is None:
            tokens = bm25s.tokenize(
                texts, stopwords="en", stemmer=self._stemmer, show_progress=False
            )
            self.model.index(tokens, show_progress=False)

    @classmethod
    def for_snapshot(cls, snapshot: IndexSnapshot) -> BM25Index:
        """The snapshot's keyword index: kept on it, else loaded from its generation, else built."""
        found = snapshot.lexical
        if isinstance(found, BM25Index) and found.size == len(snapshot.chunks):
            return found
        saved = snapshot.path / LEXICAL_DIR if snapshot.path is not None else None
        index = cls.load(saved, len(snapshot.chunks)) if saved is not None else None
        if index is None:
            index = cls([embed_text(c.section, c.text) for c in snapshot.chunks])
        snapshot.lexical = index
        return index

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self.size:
            self.model.save(str(path), show_progress=False)
        meta = {**self._FORMAT, "documents": self.size}
        (path / "lexical.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, path: Path, documents: int) -> BM25Index | None:
        """The saved index memory-mapped, or None when absent, unreadable or from other chunks."""
        bm25s = import_bm25s()
        try:
            meta = json.loads((path / "lexical.json").read_text(encoding="utf-8"))
            if meta != {**cls._FORMAT, "documents": documents}:
                return None
            if documents == 0:
                return cls([])
            model = bm25s.BM25.load(str(path), mmap=True, show_progress=False)
        except (OSError, ValueError, KeyError):
            return None  # derived data: the caller rebuilds it from the chunks
        index = cls([], model=model)
        index.size = documents
        return index

    def has_word(self, word: str) -> bool:
        """Does ``word`` (any case, unstemmed) occur anywhere in the indexed chunks?"""
        vocab = getattr(self.model, "vocab_dict", None) or {}
        return self._stemmer.stemWord(word.lower()) in vocab

    def search(
        self, query: str, k: int, positions: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``k`` best chunks sharing a word with ``query``; with ``positions``, only
        among those chunks (a mask over the scores, not a longer list cut down)."""
        k = min(k, self.size if positions is None else len(positions))
        if k <= 0:
            return []
        tokens = self._bm25s.tokenize(
            [query], stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False
        )
        if not tokens or not tokens[0]:
            return []
        with self._lock:
            scores = self.model.get_scores(tokens[0])  # one score per chunk, 0: no shared word
        return top_positive(scores, k, positions)


def import_bm25s() -> Any:
    """bm25s, imported without numba: bm25s imports numba whenever it is installed (ranx, for
    the evaluation, installs it), ~0.3 s of a fresh process's first answer, though the NumPy
    backend used here never calls it. Only bm25s sees numba as missing; a later ``import
    numba`` anywhere works as usual."""
    if "bm25s" in sys.modules:
        return sys.modules["bm25s"]
    block = "numba" not in sys.modules
    if block:
        sys.modules["numba"] = None  # type: ignore[assignment]  # `import numba` raises
    try:
        import bm25s
    finally:
        if block and sys.modules.get("numba", False) is None:
            del sys.modules["numba"]
    return bm25s


def top_positive(
    scores: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> list[tuple[int, float]]:
    """The ``k`` best positive scores as (position, score), best first, equal scores in
    position order; with ``allowed``, only among those positions.

    Only the chunks sharing a word with the query score above zero, so those are the ones
    ranked: NumPy's ``argpartition`` over every score (what ``bm25s.retrieve`` does) degrades
    on the many equal zeros, 175 ms at 1M chunks against 3 ms for this (bench/README.md).
    """
    if allowed is None:
        hits = np.flatnonzero(scores > 0)
    else:
        allowed = np.asarray(allowed, dtype=np.int64)
        hits = allowed[scores[allowed] > 0]
    if len(hits) > k:
        kth = np.partition(scores[hits], len(hits) - k)[len(hits) - k]
        hits = hits[scores[hits] >= kth]  # every tie of the k-th score, cut after ordering
    order = np.lexsort((hits, -scores[hits]))[:k]
    return [(int(p), float(scores[p])) for p in hits[order]]


class Retriever:
    """Ranks an index snapshot's chunks for a query."""

    def __init__(
        self,
        snapshot: IndexSnapshot,
        embedder: Embedder,
        settings: RetrievalSettings,
        lexicon: Lexicon | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.lexicon = lexicon or EMPTY
        self.embedder = embedder
        self.settings = settings
        self.bm25 = BM25Index.for_snapshot(snapshot)
        self._layout = snapshot.layout  # each chunk's paper, memory-mapped for a stored index
        self.front = FrontMatterCache(snapshot.documents)
        self._pages = PageFinder()  # PDF page of each passage ("p. 4" on its source card)
        self._authors: dict[str, list[str]] | None = None
        self._names: PaperNames | None = None

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        mode: RetrievalMode | None = None,
        boost_doc: str | None = None,
        only_docs: Collection[str] | None = None,
    ) -> list[Passage]:
        """Top ``k`` passages; ``only_docs`` searches only those papers' chunks (the papers
        a user chose, or those a question names), filtered inside each index."""
        k = k or self.settings.top_k
        mode = mode or self.settings.mode
        q = normalise_query(query, self.lexicon)
        pool = max(self.settings.candidates, 2 * k)
        rows = None if only_docs is None else self.positions(only_docs)
        if rows is not None and not len(rows):
            return []
        ranked: dict[str, list[tuple[int, float]]] = {}
        if mode in ("dense", "hybrid"):
            ranked["dense"] = self._dense(q, pool, rows, only_docs)
        if mode in ("bm25", "hybrid"):
            ranked["bm25"] = self.bm25.search(q, pool, rows)
        fused = self._fuse(ranked, boost_doc)
        if self.settings.mmr:
            fused = self._mmr(q, fused)
        return self._collapse_versions(fused, k)

    def positions(self, doc_ids: Collection[str]) -> np.ndarray:
        """The chunk positions of the papers ``doc_ids``, sorted."""
        parts = [self._layout.positions(d) for d in sorted(set(doc_ids))]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def front_matter(self, doc_id: str) -> list[Field]:
        """The paper's front-matter fields, found in its own text (cached per snapshot)."""
        return self.front.fields(doc_id)

    def authors(self) -> dict[str, list[str]]:
        """Author names per indexed paper, from its title block (once per snapshot)."""
        if self._authors is None:
            self._authors = {
                d: self.front.authors(d)
                for d, doc in self.snapshot.documents.items()
                if doc.alias_of is None
            }
        return self._authors

    def paper_names(self) -> PaperNames:
        """Every paper's author names (catalog and title block), indexed once per snapshot."""
        if self._names is None:
            self._names = PaperNames(self.snapshot.documents.values(), self.authors())
        return self._names

    def front_matter_passages(self, kind: str, doc_ids: list[str]) -> list[Passage]:
        """The ``kind`` field of each paper in ``doc_ids`` that has one, as exact passages."""
        out: list[Passage] = []
        for doc_id in doc_ids:
            for f in self.front_matter(doc_id):
                if f.kind != kind:
                    continue
                chunk = self._chunk_at(doc_id, f.start)
                if chunk is None:
                    continue
                doc = self.snapshot.documents[doc_id]
                out.append(
                    Passage(
                        chunk_id=chunk.chunk_id,
                        doc_id=doc_id,
                        title=doc.title,
                        section=kind.title(),
                        text=f.text,
                        start=f.start,
                        end=f.end,
                        score=1.0,
                        field=kind,
                        pages=self._pages.span(doc, f.start, f.end),
                    )
                )
                break
        return out

    def _chunk_at(self, doc_id: str, pos: int) -> ChunkRecord | None:
        best = None
        for i in np.sort(self._layout.positions(doc_id)):
            chunk = self.snapshot.chunks[int(i)]
            if chunk.start <= pos < chunk.end:
                return chunk
            if chunk.start <= pos:
                best = chunk
        return best

    def _dense(
        self,
        query: str,
        k: int,
        rows: np.ndarray | None = None,
        doc_ids: Collection[str] | None = None,
    ) -> list[tuple[int, float]]:
        vec = self.embedder.embed([query])
        if rows is None:
            scores, ids = self.snapshot.store.search(vec, k)
        else:
            papers = sorted(set(doc_ids or ()))
            scores, ids = self.snapshot.store.search(vec, k, positions=rows, doc_ids=papers)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _fuse(
        self, ranked: dict[str, list[tuple[int, float]]], boost_doc: str | None
    ) -> list[_Scored]:
        """Reciprocal rank fusion (Cormack et al. 2009); a single list keeps its own order."""
        rrf_k = self.settings.rrf_k
        merged: dict[int, _Scored] = {}
        for name, hits in ranked.items():
            for rank, (pos, raw) in enumerate(hits):
                item = merged.setdefault(pos, _Scored(pos, 0.0, {}))
                item.scores[name] = raw
                item.score += 1.0 / (rrf_k + rank + 1)
        if boost_doc:
            bonus = self.settings.followup_doc_boost / (rrf_k + 1)
            for item in merged.values():
                if self._layout.doc_id(item.position) == boost_doc:
                    item.score += bonus
        return sorted(merged.values(), key=lambda s: (-s.score, s.position))

    def _mmr(self, query: str, items: list[_Scored]) -> list[_Scored]:
        """Maximal marginal relevance over the fused candidates (Carbonell & Goldstein 1998)."""
        if len(items) < 3:
            return items
        vecs = self.snapshot.store.vectors(np.array([s.position for s in items]))
        qv = self.embedder.embed([query])[0]
        rel = vecs @ qv
        lam = self.settings.mmr_lambda
        chosen: list[int] = []
        rest = list(range(len(items)))
        while rest:
            if chosen:
                sim = (vecs[rest] @ vecs[chosen].T).max(axis=1)
            else:
                sim = np.zeros(len(rest))
            best = rest[int(np.argmax(lam * rel[rest] - (1 - lam) * sim))]
            chosen.append(best)
            rest.remove(best)
        return [items[i] for i in chosen]

    def _collapse_versions(self, items: list[_Scored], k: int) -> list[Passage]:
        docs = self.snapshot.documents
        kept: list[Passage] = []
        groups: list[str | None] = []
        for item in items:
            chunk = self.snapshot.chunks[item.position]
            group = docs[chunk.doc_id].version_group if chunk.doc_id in docs else None
            twin = self._twin(kept, groups, chunk, group)
            if twin is not None:
                if chunk.doc_id not in twin.versions and chunk.doc_id != twin.doc_id:
                    twin.versions.append(chunk.doc_id)
                continue
            kept.append(self._passage(chunk, item))
            groups.append(group)
            if len(kept) >= k:
                break
        return kept

    def _twin(
        self, kept: list[Passage], groups: list[str | None], chunk: ChunkRecord, group: str | None
    ) -> Passage | None:
        if group is None:
            return None
        for passage, g in zip(kept, groups, strict=True):
            if g == group and passage.doc_id != chunk.doc_id:
                if fuzz.token_set_ratio(passage.text, chunk.text) >= self.settings.dedup_similarity:
                    return passage
        return None

    def _passage(self, chunk: ChunkRecord, item: _Scored) -> Passage:
        doc = self.snapshot.documents.get(chunk.doc_id)
        return Passage(
            chunk_id=chunk.chunk_id,
            doc_id=chunk.doc_id,
            title=doc.title if doc else chunk.doc_id,
            section=chunk.section,
            text=chunk.text,
            start=chunk.start,
            end=chunk.end,
            score=round(item.score, 6),
            scores={k: round(v, 6) for k, v in item.scores.items()},
            pages=self._pages.span(doc, chunk.start, chunk.end),
        )
