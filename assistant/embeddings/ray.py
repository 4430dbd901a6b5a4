"""Embed chunk texts on a Ray cluster with Ray Data: one model per worker, batches spread out.

``assistant ingest --engine ray`` swaps the encoder behind the embedding cache for
:class:`RayEmbedder`; loading, cleaning, chunking and the index write stay in this process, so
chunks, chunk ids and the index layout are those of the single-process path, and the vectors
agree to float rounding. ``ray.init`` joins the cluster named by the ``ray_address`` setting
(default: ``RAY_ADDRESS``), or starts a local one for the run. Workers need this package and
its model (the same virtualenv or image on every node).

A batch that fails on a worker comes back as an error row instead of killing the job, so the
message names the batch; the ingest then stops before writing anything, leaving the live index
generation as it was.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import AssistantError
from ..settings import EmbeddingSettings
from .local import SentenceTransformerEmbedder

_INSTALL = "pip install 'bri-assistant[scale]'"


class EmbedActor:
    """A Ray Data worker: loads the encoder once in ``__init__``, embeds a batch per call."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.embedder = SentenceTransformerEmbedder(settings)
        _ = self.embedder.model  # load now, not inside the first batch

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        index = np.asarray(batch["i"], dtype=np.int64)
        try:
            vectors = np.asarray(self.embed([str(t) for t in batch["text"]]), dtype=np.float32)
            error = ""
        except Exception as e:  # reported per batch, so the driver can name it
            vectors = np.zeros((len(index), self.embedder.dimension), dtype=np.float32)
            error = f"{type(e).__name__}: {e}"
        return {"i": index, "vector": vectors, "error": np.full(len(index), error, dtype=object)}


class RayEmbedder:
    """The ``Embedder`` interface with ``embed`` run on Ray; tokenising stays local.

    >>> embedder = make_embedder(settings.with_updates(embedding={"engine": "ray"}))
    """

    def __init__(self, settings: EmbeddingSettings, actor: type[EmbedActor] = EmbedActor) -> None:
        self.settings = settings
        self.actor = actor
        self.local = SentenceTransformerEmbedder(settings)  # tokenizer for the chunker
        self.calls = 0

    @property
    def name(self) -> str:
        return self.local.name

    @property
    def dimension(self) -> int:
        return self.local.dimension

    @property
    def max_seq_length(self) -> int:
        return self.local.max_seq_length

    def count_wordpieces(self, text: str) -> int:
        return self.local.count_wordpieces(text)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = embed_on_ray(texts, self.settings, self.actor)
        self.calls += len(texts)
        return vectors


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (the Data library is a separate extra)
    except ImportError as e:
        raise AssistantError(
            f"--engine ray needs Ray Data: {_INSTALL} (or use --engine local)"
        ) from e
    return ray


@contextmanager
def ray_session(address: str = "", **local: Any) -> Iterator[Any]:
    """Use the Ray already initialised here, else join ``address``, else start a local cluster.

    Only a session started here is shut down on exit. ``local`` (e.g. ``num_cpus=2``) sizes a
    local cluster and is ignored when joining one.
    """
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(**{"include_dashboard": False, "log_to_driver": False, **local})
    except Exception as e:
        where = address or "a local cluster"
        raise AssistantError(
            f"could not start Ray ({where}): {type(e).__name__}: {e}. Check RAY_ADDRESS / "
            "ASSISTANT_EMBEDDING__RAY_ADDRESS, or use --engine local"
        ) from e
    try:
        yield ray
    finally:
        ray.shutdown()


def embed_on_ray(
    texts: Sequence[str], settings: EmbeddingSettings, actor: type[EmbedActor] = EmbedActor
) -> np.ndarray:
    """Vectors for ``texts`` in their order, computed by ``settings.ray_workers`` actors."""
    with ray_session(settings.ray_address) as ray:
        ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)])
        gpus = 1 if settings.device.startswith("cuda") else 0
        out = ds.map_batches(
            actor,
            fn_constructor_kwargs={"settings": settings},
            batch_size=settings.ray_batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=settings.ray_workers),
            num_gpus=gpus,
        )
        try:
            batches = list(out.iter_batches(batch_size=None, batch_format="numpy"))
        except Exception as e:  # a worker died (out of memory, lost node): no batch to name
            raise AssistantError(
                f"the Ray embedding job failed: {type(e).__name__}: {str(e)[:500]}. The index "
                "was not changed: fix the cause and rerun, or use `--engine local`"
            ) from e
    return _assemble(batches, texts)


def _assemble(batches: list[dict[str, np.ndarray]], texts: Sequence[str]) -> np.ndarray:
    """Put worker output back in text order; the first failed batch becomes the error."""
    for batch in batches:
        failed = [str(e) for e in batch["error"] if e]
        if failed:
            lo, hi = int(batch["i"].min()), int(batch["i"].max())
            raise AssistantError(
                f"embedding failed on a Ray worker in the batch of texts {lo}-{hi} "
                f"(first: {texts[lo][:60]!r}): {failed[0]}. The index was not changed: fix the "
                "cause and rerun `assistant ingest --engine ray`, or use `--engine local`"
            )
    index = np.concatenate([b["i"] for b in batches]) if batches else np.zeros(0, np.int64)
    if sorted(index.tolist()) != list(range(len(texts))):
        raise AssistantError(
            f"Ray returned {len(index)} vectors for {len(texts)} texts: rerun the ingest"
        )
    vectors = np.concatenate([np.asarray(b["vector"], dtype=np.float32) for b in batches])
    return vectors[np.argsort(index, kind="stable")]
