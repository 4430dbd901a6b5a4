"""The reader's weights file and features: refused when they do not match, read when they do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.features import (
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    Candidate,
    QuestionVectors,
    sentence_features,
)
from assistant.answering.scorer import LogisticModel, load_model, parse_model
from assistant.errors import AssistantError
from assistant.retrieval.query import analyse
from assistant.types import Passage

pytestmark = pytest.mark.unit


def test_the_shipped_model_loads_and_names_the_codes_features() -> None:
    model = load_model()
    assert model.selection.features == SENTENCE_FEATURES
    assert model.answerability.features == QUESTION_FEATURES
    assert 0.0 < model.threshold < 1.0
    assert model.meta["questions"] > 100 and "command" in model.meta


def test_a_model_trained_on_other_features_is_refused_with_the_fix(tmp_path: Path) -> None:
    data = load_model().to_json()
    data["selection"]["features"] = data["selection"]["features"][:-1] + ["something_else"]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AssistantError, match="retrain"):
        load_model(path)


def test_a_model_of_another_format_or_shape_is_refused() -> None:
    data = load_model().to_json()
    with pytest.raises(AssistantError, match="format"):
        parse_model({**data, "format": 99}, "x")
    broken = json.loads(json.dumps(data))
    broken["answerability"]["coef"] = broken["answerability"]["coef"][:2]
    with pytest.raises(AssistantError, match="wrong length"):
        parse_model(broken, "x")
    with pytest.raises(AssistantError, match="cannot read"):
        load_model(Path("/nonexistent/model.json"))


def test_logistic_model_is_the_standardised_sigmoid() -> None:
    model = LogisticModel(
        ("a", "b"), np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([1.0, -1.0]), 0.5
    )
    x = np.array([[3.0, 1.0], [1.0, 0.0]], np.float32)
    z = np.array([(3 - 1) / 2 * 1 - 1 + 0.5, 0.5])
    assert model.probabilities(x) == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-6)
    assert model.probabilities(np.zeros((0, 2), np.float32)).shape == (0,)


def test_json_round_trip_keeps_the_scores(tmp_path: Path) -> None:
    model = load_model()
    path = tmp_path / "copy.json"
    model.save(path)
    again = load_model(path)
    x = np.random.default_rng(0).normal(size=(5, len(SENTENCE_FEATURES))).astype(np.float32)
    assert again.selection.probabilities(x) == pytest.approx(
        model.selection.probabilities(x), abs=1e-5
    )
    assert again.threshold == pytest.approx(model.threshold)


def _candidates(*texts: str) -> list[Candidate]:
    text = " ".join(texts)
    passage = Passage(
        chunk_id="d::0::x", doc_id="d", title="t", section="s", text=text, start=0, end=len(text)
    )
    return [Candidate(0, passage, 0, len(t), t) for t in texts]


def _rows(question: str, *texts: str) -> list[dict[str, float]]:
    info = analyse(question)
    cands = _candidates(*texts)
    vectors = np.eye(len(texts), 4, dtype=np.float32)
    qv = QuestionVectors(np.ones(4, np.float32) / 2, np.ones(4, np.float32) / 2)
    x = sentence_features(info, cands, vectors, qv, list(texts))
    assert x.shape == (len(texts), len(SENTENCE_FEATURES))
    return [c.row for c in cands]


def test_scope_features_see_another_year_and_a_running_total() -> None:
    rows = _rows(
        "How many trains left the city in 2022 alone?",
        "In 2022 the city sent 4,000 trains to Europe.",
        "In 2019 the city sent 1,000 trains to Europe.",
        "Since 2013 the city has sent more than 20,000 trains in total.",
    )
    assert rows[0]["year_match"] == 1.0 and rows[0]["year_conflict"] == 0.0
    assert rows[1]["year_conflict"] == 1.0
    assert rows[2]["cumulative_conflict"] == 1.0
    assert rows[0]["kind_present"] == 1.0  # "4,000": a count


def test_a_question_over_a_period_is_no_scope_trap() -> None:
    rows = _rows(
        "What was the average annual growth between 2013 and 2022?",
        "From 2013 to 2022 trade grew by 10.9% a year on average.",
    )
    assert rows[0]["cumulative_conflict"] == 0.0


def test_fragments_are_marked() -> None:
    rows = _rows(
        "Why did trade grow?",
        "and which was released by the city in 2018 because of demand.",
        "Trade grew because demand rose.",
    )
    assert rows[0]["fragment"] == 1.0 and rows[1]["fragment"] == 0.0
    assert rows[1]["reason_cue"] == 1.0
