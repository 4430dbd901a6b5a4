"""Uploads lose nothing: saved whole, indexed even after a crash, deleted only if ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.embeddings import HashEmbedder
from assistant.ingest.uploads import LEDGER, pending_uploads, safe_upload_name, save_upload
from tests.conftest import make_settings

pytestmark = pytest.mark.unit

PAPER = b"Panda corridor\n\nThe Panda corridor opened in 2031 with 47 terminals in Chengdu.\n"


def _bot(tmp_path: Path, corpus: Path) -> Assistant:
    return Assistant.load(make_settings(tmp_path, corpus), embedder=HashEmbedder())


def test_an_upload_is_indexed_and_its_file_removed_with_it(
    tmp_path: Path, corpus_copy: Path
) -> None:
    bot = _bot(tmp_path, corpus_copy)
    result = bot.add_upload("panda.txt", PAPER)
    assert result.level == "success", result.message
    path = bot.settings.paths.uploads_dir / "panda.txt"
    assert path.read_bytes() == PAPER
    assert not [p for p in path.parent.iterdir() if ".partial-" in p.name]
    bot.remove([str(result.doc_id)])
    assert not path.exists()


def test_a_crashed_upload_is_indexed_by_the_next_ingest_and_a_retry_is_accepted(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = _bot(tmp_path, corpus_copy)

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process stops while indexing

    monkeypatch.setattr(bot, "add_documents", crash)
    with pytest.raises(KeyboardInterrupt):
        bot.add_upload("panda.txt", PAPER)
    monkeypatch.undo()
    assert [p.name for p in pending_uploads(bot.settings, bot.snapshot.documents)] == ["panda.txt"]
    retry = bot.add_upload("panda.txt", PAPER)  # the same file again: indexed, not refused
    assert retry.level == "success", retry.message

    other = _bot(tmp_path / "other", corpus_copy)
    monkeypatch.setattr(other, "add_documents", crash)
    with pytest.raises(KeyboardInterrupt):
        other.add_upload("late.txt", PAPER.replace(b"Panda", b"Tiger"))
    report = Assistant.build(settings=other.settings, embedder=HashEmbedder())  # a plain ingest
    assert any(d.startswith("late-") for d in report.added), report.added


def test_remove_never_deletes_a_file_the_user_put_in_the_uploads_folder(
    tmp_path: Path, corpus_copy: Path
) -> None:
    bot = _bot(tmp_path, corpus_copy)
    uploads = bot.settings.paths.uploads_dir
    uploads.mkdir(parents=True, exist_ok=True)
    mine = uploads / "mine.txt"
    mine.write_bytes(PAPER)  # put there by hand, ingested by path
    report = bot.add_documents([mine])
    assert report.added
    bot.remove([str(mine)])
    assert mine.read_bytes() == PAPER


def test_a_different_file_under_a_taken_name_is_refused_without_touching_either(
    tmp_path: Path, corpus_copy: Path
) -> None:
    bot = _bot(tmp_path, corpus_copy)
    assert bot.add_upload("panda.txt", PAPER).level == "success"
    again = bot.add_upload("panda.txt", PAPER.replace(b"2031", b"2032"))
    assert again.level == "warning" and "rename" in again.message
    assert (bot.settings.paths.uploads_dir / "panda.txt").read_bytes() == PAPER


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("a\x00b.txt", "ab.txt"),
        ("line\nbreak.md", "linebreak.md"),
        ("C:\\Users\\me\\paper.pdf", "paper.pdf"),
        (".hidden.txt", "hidden.txt"),
    ],
)
def test_upload_names_are_bare_and_printable(name: str, expected: str) -> None:
    assert safe_upload_name(name) == expected


def test_a_nul_byte_or_bad_type_in_an_upload_name_is_one_clear_result(
    tmp_path: Path, corpus_copy: Path
) -> None:
    settings = make_settings(tmp_path, corpus_copy)
    bad = save_upload(settings, "\x00", b"x", {})
    assert getattr(bad, "level", None) == "error" and "unsupported type" in bad.message
    assert not (settings.paths.uploads_dir / LEDGER).exists()


def test_a_symlink_loop_in_a_batch_is_one_error_and_the_rest_indexes(
    tmp_path: Path, corpus_copy: Path
) -> None:
    """Trial: a symlink loop in a batch aborted the whole batch with a traceback."""
    from assistant.ingest import Ingestor

    folder = tmp_path / "papers"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "back").symlink_to(folder, target_is_directory=True)  # a folder loop
    (folder / "a.txt").symlink_to(folder / "b.txt")  # a file loop: a -> b -> a
    (folder / "b.txt").symlink_to(folder / "a.txt")
    (folder / "good.txt").write_bytes(PAPER)
    settings = make_settings(tmp_path, corpus_copy)
    _, report = Ingestor(settings, HashEmbedder()).run([folder, folder / "a.txt"])
    assert [d for d in report.added if d.startswith("good-")]
    assert list(report.errors) == [str(folder / "a.txt")]
