"""Durable file writes for index generations: fsynced, atomically replaced; a full disk
named as such, whichever library's write failed."""

from __future__ import annotations

import errno
import json
import os
import re
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
    try:
        os.fchmod(fd, FILE_MODE)  # mkstemp makes 0600: other users could not read the index
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            fsync(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):  # a full disk must not leave a half-written temp file behind
            os.unlink(tmp)
        raise
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


_FULL = {errno.ENOSPC, errno.EDQUOT}
# numpy's short write ("605568 requested and 210912 written") carries no errno
_SHORT_WRITE = re.compile(r"\b\d+ requested and \d+ written\b")
_FULL_TEXT = tuple(os.strerror(n) for n in sorted(_FULL))  # FAISS puts strerror in its message


def is_disk_full(e: BaseException) -> bool:
    """Whether a write failed for want of space (or quota), as OS, numpy or FAISS report it."""
    if isinstance(e, OSError) and e.errno in _FULL:
        return True
    if not isinstance(e, (OSError, ValueError, RuntimeError)):
        return False
    text = str(e)
    return bool(_SHORT_WRITE.search(text)) or any(t in text for t in _FULL_TEXT)
