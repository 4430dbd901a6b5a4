"""Default paths: written data goes to the working folder, bundled data is read from the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Settings, bundled
from assistant.prompts import load_prompt

pytestmark = pytest.mark.unit

WRITTEN = (
    "ASSISTANT_PATHS__INDEX_DIR",
    "ASSISTANT_PATHS__CACHE_DIR",
    "ASSISTANT_PATHS__UPLOADS_DIR",
)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in WRITTEN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_written_paths_resolve_against_the_working_folder(elsewhere: Path) -> None:
    paths = Settings().paths
    assert paths.index_dir == elsewhere / "index"
    assert paths.cache_dir == elsewhere / ".cache"
    assert paths.uploads_dir == elsewhere / "uploads"
    package = Path(bundled.__file__).parent
    for written in (paths.index_dir, paths.cache_dir, paths.uploads_dir):
        assert not written.is_relative_to(package)


def test_relative_settings_are_made_absolute_when_read(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_PATHS__INDEX_DIR", "data/idx")
    settings = Settings()
    monkeypatch.chdir(elsewhere.parent)  # a later chdir does not move the index
    assert settings.paths.index_dir == elsewhere / "data" / "idx"
    assert Settings(paths={"cache_dir": "~/c"}).paths.cache_dir == Path.home() / "c"


def test_bundled_papers_and_prompts_are_found(elsewhere: Path) -> None:
    paths = Settings().paths
    assert (paths.corpus_dir / "catalog.toml").is_file()
    assert len(list(paths.corpus_dir.glob("*.txt"))) == 5
    assert {p.name for p in paths.prompts_dir.glob("*.txt")} >= {"answer.txt", "condense.txt"}


def test_a_prompts_folder_of_your_own(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = elsewhere / "my-prompts"
    mine.mkdir()
    (mine / "condense.txt").write_text("Mine. {history} then {question}", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_PATHS__PROMPTS_DIR", "my-prompts")
    prompt = load_prompt("condense", Settings().paths.prompts_dir)
    assert prompt.user.startswith("Mine.")
