"""Expected failures, each with a message that says what went wrong and how to fix it.

The CLI turns these into one red line and exit code 1; the UI into ``st.error``.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: an expected failure a user can act on."""


class DocumentError(AssistantError):
    """A paper could not be read: empty, binary, corrupt, encrypted or without text."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexMissingError(AssistantError):
    """No index on disk where the settings point."""


class IndexIncompatibleError(AssistantError):
    """The index was built with another embedding model or format: it must be rebuilt."""


class IndexWriteError(AssistantError):
    """The index folder cannot be written (permissions, full disk, read-only volume)."""


class ConfigError(AssistantError):
    """A setting, ``assistant.toml`` or ``corpus/catalog.toml`` is invalid."""


class PaperNotFoundError(AssistantError):
    """``remove`` was given an id or path that names no indexed paper."""


class QuestionError(AssistantError):
    """The question cannot be answered as given (empty, nothing searchable)."""


class BackendError(AssistantError):
    """An LLM backend is misconfigured or unreachable."""


class IndexDamagedError(IndexIncompatibleError):
    """A generation's files changed after it was written (its checksums disagree): bit rot,
    a partial copy, an edit. Loading skips it for the newest intact generation."""


class IndexBusyError(IndexWriteError):
    """Another writer held the index's lock longer than ``store.lock_timeout_s``."""
