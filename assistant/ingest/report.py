"""What one ingest did, paper by paper: the summary the CLI, the UI and the API print."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # read again: a damaged index listed them
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> canonical
    versions: dict[str, list[str]] = field(default_factory=dict)  # group -> doc ids
    duplicates: dict[str, str] = field(default_factory=dict)  # skipped file -> existing doc
    errors: dict[str, str] = field(default_factory=dict)  # file -> reason
    warnings: dict[str, str] = field(default_factory=dict)  # doc id -> what to check
    dropped: dict[str, str] = field(default_factory=dict)  # doc id -> why recovery lost it
    documents: int = 0
    chunks: int = 0
    tokens: int = 0
    embedded: int = 0  # chunk texts sent to the encoder (cache misses)
    reused: int = 0  # chunk vectors found in the cache (e.g. a resumed ingest's done work)
    sentences: int = 0  # sentence spans stored for the answerer (see store.sentences)
    embedded_sentences: int = 0  # sentence texts sent to the encoder (cache misses)
    seconds: float = 0.0
    index_path: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
