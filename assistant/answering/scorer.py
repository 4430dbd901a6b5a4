"""The reader's trained weights: which sentence answers, and is the question answerable at all.

Two logistic regressions trained on the dev splits of the labelled question sets
(``python -m assistant.evaluation.train_reader``) and shipped as a small JSON file beside this
module, never a pickle: a standardisation (mean, scale) and a weight per named feature. At
answer time they are two dot products, so answering needs no scikit-learn. The file records the
feature names it was trained with; a file that does not match the code's features is refused
with the command that retrains it, rather than silently scoring with misaligned weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AssistantError
from .features import QUESTION_FEATURES, SENTENCE_FEATURES

FORMAT_VERSION = 1
MODEL_FILE = "reader_model.json"
RETRAIN = "python -m assistant.evaluation.train_reader"


@dataclass(frozen=True)
class LogisticModel:
    """``sigmoid(((x - mean) / scale) @ coef + intercept)``, one row per sample."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return np.zeros(len(x), np.float32)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return (1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))).astype(np.float32)

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(float(self.intercept), 6),
        }

    @classmethod
    def from_json(
        cls, data: dict[str, Any], expected: tuple[str, ...], where: str
    ) -> LogisticModel:
        features = tuple(data["features"])
        if features != expected:
            raise AssistantError(
                f"{where}: its features {list(features)} are not the reader's "
                f"{list(expected)}: retrain it with `{RETRAIN}`"
            )
        arrays = [np.asarray(data[k], np.float32) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(features),) for a in arrays):
            raise AssistantError(f"{where}: weights of the wrong length: retrain with `{RETRAIN}`")
        mean, scale, coef = arrays
        scale = np.where(scale == 0, 1.0, scale).astype(np.float32)
        return cls(features, mean, scale, coef, float(data["intercept"]))


@dataclass(frozen=True)
class ReaderModel:
    """Sentence selection, answerability, and the decline threshold chosen on dev data."""

    selection: LogisticModel
    answerability: LogisticModel
    threshold: float  # answerable probability below which the reader declines
    meta: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "selection": self.selection.to_json(),
            "answerability": self.answerability.to_json(),
            "threshold": round(self.threshold, 6),
            "meta": self.meta,
        }

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)


def parse_model(data: dict[str, Any], where: str) -> ReaderModel:
    if data.get("format") != FORMAT_VERSION:
        raise AssistantError(
            f"{where}: format {data.get('format')!r}, this version reads {FORMAT_VERSION}: "
            f"retrain it with `{RETRAIN}`"
        )
    try:
        return ReaderModel(
            selection=LogisticModel.from_json(data["selection"], SENTENCE_FEATURES, where),
            answerability=LogisticModel.from_json(data["answerability"], QUESTION_FEATURES, where),
            threshold=float(data["threshold"]),
            meta=dict(data.get("meta", {})),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise AssistantError(f"{where}: not a reader model ({e}): retrain with `{RETRAIN}`") from e


def load_model(path: Path | None = None) -> ReaderModel:
    """The weights at ``path``, or those shipped with the package."""
    if path is not None:
        return _read(str(path))
    return _shipped()


@lru_cache(maxsize=1)
def _shipped() -> ReaderModel:
    text = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return parse_model(json.loads(text), f"the shipped {MODEL_FILE}")


@lru_cache(maxsize=8)
def _read(path: str) -> ReaderModel:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AssistantError(f"cannot read the reader model {path}: {e}") from e
    return parse_model(data, path)
