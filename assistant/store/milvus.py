"""Chunk vectors in Milvus: the FAISS store's interface on a database many users can share.

A file URI (default ``<index_dir>/milvus.db``) runs Milvus Lite inside this process; a URL such
as ``http://milvus:19530`` reaches a Milvus server or cluster. Both go through
``pymilvus.MilvusClient``: no code branches on the kind.

What lives where: the collection holds one entity per chunk (primary key ``chunk_id``, the
vector, and ``doc_id`` / ``version_group`` / ``section`` / ``start`` / ``end`` as filterable
fields). Chunk texts, documents and the manifest stay in the index generation on disk
(``chunks.jsonl``): they feed BM25, citations and the staleness check exactly as with FAISS.
A store object is a *view*: one generation's chunk ids in its order, so ``search`` returns that
generation's positions. Ingest deletes changed or removed documents by ``doc_id`` and upserts
the new chunks, so a re-index never re-sends unchanged vectors.

The collection records schema version, embedding model and dimension as properties; opening it
checks them against the index manifest, as the FAISS manifest is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import AssistantError, IndexIncompatibleError

if TYPE_CHECKING:
    from ..settings import Settings, StoreSettings
    from .records import ChunkRecord, IndexSnapshot

SCHEMA_VERSION = "1"
_PROP_SCHEMA = "bri.schema_version"
_PROP_MODEL = "bri.embedding_model"
_PROP_DIM = "bri.dimension"
_PK = "chunk_id"
_VECTOR = "vector"
_BATCH = 1000  # rows per insert/get call: ~1.5 MB of 384-d vectors, far under gRPC's 64 MB
# VARCHAR lengths, in UTF-8 bytes; file names (doc ids) are at most 255 bytes on common systems
_MAX_TEXT = {"chunk_id": 1024, "doc_id": 1024, "version_group": 1024, "section": 1024}
_INSTALL = "pip install 'bri-assistant[scale]'"


@dataclass(frozen=True)
class MilvusTarget:
    """Where the vectors live: a URI (file → Milvus Lite, URL → server) and a collection."""

    uri: str
    collection: str
    token: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, store: StoreSettings, index_dir: Path) -> MilvusTarget:
        uri = store.milvus_uri or str(index_dir / "milvus.db")
        if not _is_url(uri):
            uri = str(Path(uri).expanduser().resolve())
        return cls(uri, store.milvus_collection, store.milvus_token)

    def manifest_uri(self, index_dir: Path) -> str:
        """The URI as recorded: relative when inside the index folder, so it can move."""
        if _is_url(self.uri):
            return self.uri
        try:
            return str(Path(self.uri).relative_to(index_dir.resolve()))
        except ValueError:
            return self.uri


def _is_url(uri: str) -> bool:
    return "://" in uri


def where_docs(doc_ids: Iterable[str]) -> str:
    """A filter expression matching the given documents (JSON escapes quotes safely).

    Milvus Lite 3 has no filter templates (``filter_params``), so values are inlined.
    """
    return f"doc_id in {json.dumps(sorted(set(doc_ids)), ensure_ascii=False)}"


@contextmanager
def _milvus_errors(action: str, target: MilvusTarget) -> Iterator[None]:
    """Turn a pymilvus failure into one line that names the server and the fix."""
    try:
        yield
    except AssistantError:
        raise
    except Exception as e:  # pymilvus raises MilvusException and grpc errors alike
        raise AssistantError(
            f"Milvus could not {action} (collection {target.collection!r} at {target.uri}): "
            f"{type(e).__name__}: {e}. Check that the server is up and "
            "ASSISTANT_STORE__MILVUS_URI / ASSISTANT_STORE__MILVUS_TOKEN are right"
        ) from e


def connect(target: MilvusTarget) -> Any:
    """A ``MilvusClient`` for ``target``; a file URI starts Milvus Lite in this process."""
    try:
        from pymilvus import MilvusClient
    except ImportError as e:
        raise AssistantError(
            f"the milvus store needs pymilvus and milvus-lite: {_INSTALL} "
            "(or set ASSISTANT_STORE__BACKEND=faiss)"
        ) from e
    if not _is_url(target.uri):
        Path(target.uri).parent.mkdir(parents=True, exist_ok=True)
    with _milvus_errors("connect", target):
        return MilvusClient(uri=target.uri, token=target.token)


class MilvusVectorStore:
    """Chunk vectors in a Milvus collection, seen through one generation's chunk order.

    >>> target = MilvusTarget("/tmp/idx/milvus.db", "bri_chunks")
    >>> store = MilvusVectorStore.create(target, "all-MiniLM-L6-v2", 384)
    >>> store = store.insert(chunks, vectors, {"001.txt": None})
    >>> scores, positions = store.search(query_vectors, 10, doc_ids=["001.txt"])
    """

    def __init__(
        self,
        client: Any,
        target: MilvusTarget,
        chunk_ids: Sequence[str],
        dimension: int,
        index: str = "flat",
        ef_search: int = 128,
    ) -> None:
        self.client = client
        self.target = target
        self.dimension = dimension
        self.index = index
        self.ef_search = ef_search
        self.chunk_ids = list(chunk_ids)
        self._position = {cid: i for i, cid in enumerate(self.chunk_ids)}

    # -- opening ------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        target: MilvusTarget,
        model: str,
        dimension: int,
        *,
        hnsw: bool = False,
        m: int = 32,
        ef_search: int = 128,
        client: Any = None,
    ) -> MilvusVectorStore:
        """A new, empty collection (an existing one of that name is dropped: it is rebuilt)."""
        client = client or connect(target)
        name = target.collection
        with _milvus_errors("create the collection", target):
            if client.has_collection(name):
                client.drop_collection(name)
            client.create_collection(
                name,
                schema=_schema(dimension),
                index_params=_index_params(client, hnsw, m),
                consistency_level="Strong",  # an ingest's writes are searchable when it returns
                properties={
                    _PROP_SCHEMA: SCHEMA_VERSION,
                    _PROP_MODEL: model,
                    _PROP_DIM: str(dimension),
                },
            )
            client.load_collection(name)
        return cls(client, target, [], dimension, "hnsw" if hnsw else "flat", ef_search)

    @classmethod
    def open(
        cls,
        target: MilvusTarget,
        chunk_ids: Sequence[str],
        model: str,
        dimension: int,
        index: str = "flat",
        ef_search: int = 128,
    ) -> MilvusVectorStore:
        """Open an existing collection after checking it holds this model's vectors."""
        client = connect(target)
        with _milvus_errors("open the collection", target):
            if not client.has_collection(target.collection):
                raise IndexIncompatibleError(
                    f"Milvus collection {target.collection!r} at {target.uri} does not exist: "
                    "run `assistant ingest --rebuild` to fill it"
                )
            props = client.describe_collection(target.collection).get("properties", {})
            _check_properties(props, model, dimension, target)
            client.load_collection(target.collection)  # a reopened collection starts released
        return cls(client, target, chunk_ids, dimension, index, ef_search)

    def view(self, chunk_ids: Sequence[str]) -> MilvusVectorStore:
        """The same collection seen through another generation's chunk order."""
        return MilvusVectorStore(
            self.client, self.target, chunk_ids, self.dimension, self.index, self.ef_search
        )

    # -- the VectorStore interface --------------------------------------------------------

    @property
    def size(self) -> int:
        """Entities in the collection (a server round trip: the load check compares it)."""
        with _milvus_errors("count entities", self.target):
            rows = self.client.query(self.target.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    @property
    def kind(self) -> str:
        return f"milvus-{self.index}"

    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        doc_ids: Iterable[str] | None = None,
        positions: np.ndarray | None = None,
        where: str | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` by inner product, optionally only within ``doc_ids`` and/or a filter.

        The papers are a filter expression on ``doc_id`` (an inverted index), applied by
        Milvus in the search; ``positions`` (those papers' rows) only caps ``k``, or, given
        alone, becomes a filter on their chunk ids. Positions are -1 (score -inf) where fewer
        than ``k`` chunks match, as FAISS pads.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = min(k, len(self.chunk_ids) if positions is None else len(positions))
        if positions is not None and doc_ids is None:
            ids = sorted({self.chunk_ids[int(p)] for p in positions})
            chunks = f"{_PK} in {json.dumps(ids, ensure_ascii=False)}"
            where = f"({chunks}) and ({where})" if where else chunks
        scores = np.full((len(queries), max(k, 0)), -np.inf, dtype=np.float32)
        positions = np.full((len(queries), max(k, 0)), -1, dtype=np.int64)
        if k <= 0 or not len(queries):
            return scores, positions
        expr = " and ".join(
            f"({e})" for e in (where_docs(doc_ids) if doc_ids is not None else None, where) if e
        )
        params: dict[str, Any] = {"metric_type": "IP", "params": {}}
        if self.index == "hnsw":
            params["params"] = {"ef": max(self.ef_search, k)}
        with _milvus_errors("search", self.target):
            hits = self.client.search(
                self.target.collection,
                data=queries.tolist(),
                limit=k,
                filter=expr,
                anns_field=_VECTOR,
                search_params=params,
                output_fields=[_PK],
            )
        for row, found in enumerate(hits):
            self._fill(found, scores[row], positions[row])
        return scores, positions

    def _fill(self, found: Iterable[Any], scores: np.ndarray, positions: np.ndarray) -> None:
        """Map hit ids to this generation's positions; chunks it does not know are skipped."""
        col = 0
        for hit in found:
            pos = self._position.get(_hit_id(hit))
            if pos is None:  # written by a newer generation than this view
                continue
            scores[col], positions[col] = float(hit["distance"]), pos
            col += 1
            if col == len(positions):
                break

    def vectors(self, positions: np.ndarray | None = None) -> np.ndarray:
        ids = self.chunk_ids if positions is None else [self.chunk_ids[int(p)] for p in positions]
        found: dict[str, list[float]] = {}
        with _milvus_errors("read vectors", self.target):
            for batch in _batches(list(dict.fromkeys(ids)), _BATCH):
                for row in self.client.get(
                    self.target.collection, ids=batch, output_fields=[_VECTOR]
                ):
                    found[row[_PK]] = row[_VECTOR]
        missing = [cid for cid in ids if cid not in found]
        if missing:
            raise IndexIncompatibleError(
                f"Milvus collection {self.target.collection!r} lacks {len(missing)} chunks of "
                f"this index (e.g. {missing[0]}): run `assistant ingest --rebuild`"
            )
        out = np.asarray([found[cid] for cid in ids], dtype=np.float32)
        return out.reshape(len(ids), self.dimension)

    # -- writing --------------------------------------------------------------------------

    def insert(
        self,
        chunks: Sequence[ChunkRecord],
        vectors: np.ndarray,
        version_groups: Mapping[str, str | None],
        *,
        upsert: bool = False,
    ) -> MilvusVectorStore:
        """Write chunks with their vectors; upsert makes a re-run after a crash harmless."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        write = self.client.upsert if upsert else self.client.insert
        vectors = np.asarray(vectors, dtype=np.float32)
        with _milvus_errors("write chunks", self.target):
            for lo in range(0, len(chunks), _BATCH):
                rows = [
                    _row(c, v, version_groups.get(c.doc_id))
                    for c, v in zip(
                        chunks[lo : lo + _BATCH], vectors[lo : lo + _BATCH], strict=True
                    )
                ]
                write(self.target.collection, rows)
        return self

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        """Remove every chunk of these documents (for incremental re-indexing)."""
        with _milvus_errors("delete documents", self.target):
            for batch in _batches(sorted(set(doc_ids)), 500):
                self.client.delete(self.target.collection, filter=where_docs(batch))

    def flush(self) -> None:
        """Persist buffered writes (save_snapshot calls this where FAISS writes its file)."""
        with _milvus_errors("flush", self.target):
            self.client.flush(self.target.collection)

    def describe(self, index_dir: Path) -> dict[str, Any]:
        """The manifest's ``store`` entry: enough to reopen this collection (no token)."""
        return {
            "backend": "milvus",
            "uri": self.target.manifest_uri(index_dir),
            "collection": self.target.collection,
            "index": self.index,
            "metric": "IP",
            "schema_version": SCHEMA_VERSION,
        }


def _schema(dimension: int) -> Any:
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(_PK, DataType.VARCHAR, max_length=_MAX_TEXT["chunk_id"], is_primary=True)
    for name in ("doc_id", "version_group", "section"):
        schema.add_field(name, DataType.VARCHAR, max_length=_MAX_TEXT[name])
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field(_VECTOR, DataType.FLOAT_VECTOR, dim=dimension)
    return schema


def _index_params(client: Any, hnsw: bool, m: int) -> Any:
    """Exact (FLAT) while small, as FAISS is; HNSW above the store's hnsw_threshold."""
    params = client.prepare_index_params()
    if hnsw:
        params.add_index(
            field_name=_VECTOR,
            index_type="HNSW",
            metric_type="IP",
            params={"M": m, "efConstruction": 80},
        )
    else:
        params.add_index(field_name=_VECTOR, index_type="FLAT", metric_type="IP")
    params.add_index(field_name="doc_id", index_type="INVERTED")  # delete/filter by document
    return params


def _row(chunk: ChunkRecord, vector: np.ndarray, version_group: str | None) -> dict[str, Any]:
    text = {
        "doc_id": chunk.doc_id,
        "version_group": version_group or "",
        "section": _clip(chunk.section, _MAX_TEXT["section"]),  # a label: cutting it is harmless
    }
    return {_PK: chunk.chunk_id, **text, "start": chunk.start, "end": chunk.end, _VECTOR: vector}


def _clip(text: str, max_bytes: int) -> str:
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def _hit_id(hit: Mapping[str, Any]) -> str:
    """pymilvus 2.x names the primary key ``id`` in a hit; 3.x uses the field's own name."""
    if _PK in hit:
        return str(hit[_PK])
    entity = hit.get("entity") or {}
    return str(entity.get(_PK, hit.get("id")))


def _check_properties(
    props: Mapping[str, str], model: str, dimension: int, target: MilvusTarget
) -> None:
    where = f"Milvus collection {target.collection!r} at {target.uri}"
    if props.get(_PROP_SCHEMA) != SCHEMA_VERSION:
        raise IndexIncompatibleError(
            f"{where} has schema version {props.get(_PROP_SCHEMA)!r}, this version writes "
            f"{SCHEMA_VERSION!r}: run `assistant ingest --rebuild` (drops and refills it)"
        )
    if props.get(_PROP_MODEL) != model or props.get(_PROP_DIM) != str(dimension):
        raise IndexIncompatibleError(
            f"{where} holds vectors of {props.get(_PROP_MODEL)} ({props.get(_PROP_DIM)}-d), "
            f"the index uses {model} ({dimension}-d): set ASSISTANT_STORE__MILVUS_COLLECTION "
            "to another collection, or run `assistant ingest --rebuild` to refill this one"
        )


def _batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for lo in range(0, len(items), size):
        yield list(items[lo : lo + size])


# -- the pipeline's hooks (called from store/generations.py) ----------------------------------


def open_from_manifest(
    manifest: Mapping[str, Any],
    index_dir: Path,
    chunk_ids: Sequence[str],
    settings: StoreSettings | None,
) -> MilvusVectorStore:
    """The store a generation recorded; the settings' URI/token win (a moved server)."""
    info = manifest["store"]
    uri = str(info["uri"])
    if not _is_url(uri) and not Path(uri).is_absolute():
        uri = str((index_dir / uri).resolve())
    if settings and settings.milvus_uri:
        uri = MilvusTarget.from_settings(settings, index_dir).uri
    target = MilvusTarget(uri, str(info["collection"]), settings.milvus_token if settings else "")
    embedding = manifest["embedding"]
    return MilvusVectorStore.open(
        target,
        chunk_ids,
        str(embedding["model"]),
        int(embedding["dimension"]),
        str(info.get("index", "flat")),
        settings.hnsw_ef_search if settings else 128,
    )


def sync_store(
    settings: Settings,
    old: IndexSnapshot,
    keep_positions: Sequence[int],
    chunks: Sequence[ChunkRecord],
    new_vectors: np.ndarray,
    model: str,
    version_groups: Mapping[str, str | None],
) -> MilvusVectorStore:
    """The next generation's store: ``chunks`` are the kept ones (at ``keep_positions`` in
    ``old``) followed by new ones (``new_vectors``).

    Same collection as ``old``: delete changed/removed documents by ``doc_id``, upsert the new
    chunks. Otherwise (first build, rebuild, a switch from FAISS or to another collection): a
    fresh collection filled with the kept vectors read from the old store plus the new ones.
    """
    target = MilvusTarget.from_settings(settings.store, settings.paths.index_dir)
    n_kept = len(keep_positions)
    kept, new = list(chunks[:n_kept]), list(chunks[n_kept:])
    dim = int(new_vectors.shape[1])
    ids = [c.chunk_id for c in chunks]
    base = old.store if isinstance(old.store, MilvusVectorStore) else None
    if base is None or base.target != target or not kept:
        store = MilvusVectorStore.create(
            target,
            model,
            dim,
            hnsw=len(chunks) > settings.store.hnsw_threshold,
            m=settings.store.hnsw_m,
            ef_search=settings.store.hnsw_ef_search,
            client=base.client if base is not None and base.target == target else None,
        )
        kept_vectors = _old_vectors(old, keep_positions, dim)
        store.insert(list(chunks), np.vstack([kept_vectors, new_vectors]), version_groups)
        return store.view(ids)
    regrouped = {
        c.doc_id
        for c in kept
        if c.doc_id in old.documents
        and old.documents[c.doc_id].version_group != version_groups.get(c.doc_id)
    }
    moved = [(c, p) for c, p in zip(kept, keep_positions, strict=True) if c.doc_id in regrouped]
    stale = {c.doc_id for c in old.chunks} - {c.doc_id for c in kept}
    base.delete_documents(stale | {c.doc_id for c in new} | regrouped)
    base.insert(
        [c for c, _ in moved] + new,
        np.vstack([_old_vectors(old, [p for _, p in moved], dim), new_vectors]),
        version_groups,
        upsert=True,
    )
    return base.view(ids)


def _old_vectors(old: IndexSnapshot, positions: Sequence[int], dim: int) -> np.ndarray:
    if not len(positions):
        return np.zeros((0, dim), np.float32)
    return old.store.vectors(np.asarray(positions))
