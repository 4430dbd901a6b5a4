"""Durable file writes for index generations: fsynced, atomically replaced."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

# An index may be built by one user and read by others (a shared volume): readable by all.
FILE_MODE = 0o644
DIR_MODE = 0o755


def publish(folder: Path) -> None:
    """Make ``folder`` and everything in it readable by group and others."""
    os.chmod(folder, DIR_MODE)
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), DIR_MODE)
        for name in files:
            os.chmod(os.path.join(root, name), FILE_MODE)


def write_json(path: Path, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        fsync(f)


def atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600: other users could not read the index
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        fsync(f)
    os.replace(tmp, path)
    fsync_path(path.parent)


def fsync(f: Any) -> None:
    f.flush()
    os.fsync(f.fileno())


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
