"""Checksums of a generation's files, so damage is found when it loads, not when it answers.

A save writes ``checksums.json`` last (before the folder is renamed into place): each file's
size and sha256. A load checks cheaply: every file's size (a truncated or missing file); the
full hash of the smallest files, up to ``LOAD_BUDGET`` bytes in all (the JSON and offset
tables, and at the bundled corpus's size every file); for each bigger file (vectors, chunk
rows at scale) ``SAMPLES`` blocks at fixed offsets whose digests were stored at save.
``verify_generation(gen, full=True)`` hashes every byte (``index-info --verify``, a writer
that rebuilds from a generation). A generation written before checksums has no such file and
loads unchecked, as it used to.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import IndexDamagedError
from .files import write_json

CHECKSUMS = "checksums.json"
ALGORITHM = "sha256"  # 0.8 GB/s here, twice blake2b's speed
LOAD_BUDGET = 32 << 20  # bytes hashed whole at load: about 40 ms at 0.8 GB/s
BLOCK = 64 << 10  # one sampled block
SAMPLES = 16  # blocks sampled per bigger file: 1 MiB read, evenly spread, first and last
_FORMAT = 1
_READ = 1 << 20
_REBUILD = "run `assistant ingest --rebuild` (papers given by path or upload are kept)"


def write_checksums(folder: Path) -> None:
    """Record every file under ``folder`` (except this record) and how a load checks it."""
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() != CHECKSUMS
    )
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        digests = list(pool.map(_digest, files))  # hashlib releases the GIL on big buffers
    entries: dict[str, dict[str, Any]] = {}
    budget = LOAD_BUDGET
    for path, digest in sorted(zip(files, digests, strict=True), key=lambda f: f[0].stat().st_size):
        size = path.stat().st_size
        entry: dict[str, Any] = {"size": size, ALGORITHM: digest}
        if size <= budget:
            entry["load"] = "full"
            budget -= size
        else:
            entry["load"] = "sample"
            with open(path, "rb") as f:
                entry["samples"] = [[at, _block(f, at, BLOCK)] for at in _positions(size)]
        entries[path.relative_to(folder).as_posix()] = entry
    record = {"format": _FORMAT, "algorithm": ALGORITHM, "block": BLOCK, "files": entries}
    write_json(folder / CHECKSUMS, record)


def has_checksums(folder: Path) -> bool:
    return (folder / CHECKSUMS).is_file()


def verify_generation(folder: Path, full: bool = False, skip: Collection[str] = ()) -> bool:
    """Check ``folder`` against its checksums: sizes, small files whole, big ones sampled
    (``full``: every byte), the files in ``skip`` left out. False when it has none (written
    before them); raise ``IndexDamagedError`` naming the first file that differs."""
    problems = check_files(folder, full=full, skip=skip)
    if problems is None:
        return False
    if problems:
        name, why = next(iter(problems.items()))
        more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
        raise IndexDamagedError(f"index at {folder} is damaged ({name} {why}{more}): {_REBUILD}")
    return True


def check_files(
    folder: Path,
    names: Iterable[str] | None = None,
    full: bool = False,
    skip: Collection[str] = (),
) -> dict[str, str] | None:
    """What is wrong with each checked file (empty: nothing), or None without checksums.

    ``names`` limits the check to those files, each hashed whole (recovery reads the paper
    tables of a generation whose chunk files may be damaged).
    """
    path = folder / CHECKSUMS
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("format") != _FORMAT or record.get("algorithm") != ALGORITHM:
            raise ValueError("unknown checksum format")
        files: dict[str, dict[str, Any]] = dict(record["files"])
        block = int(record["block"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {CHECKSUMS: "is unreadable"}
    wanted = (set(files) if names is None else set(names) & set(files)) - set(skip)
    problems: dict[str, str] = {}
    for name in sorted(wanted):
        why = _check(folder / name, files[name], block, full or names is not None)
        if why is not None:
            problems[name] = why
    return problems


def _check(path: Path, entry: dict[str, Any], block: int, full: bool) -> str | None:
    try:
        size = path.stat().st_size
        if size != entry["size"]:
            return f"is {size} bytes, was {entry['size']}"
        if full or entry.get("load") == "full":
            if _digest(path) != entry[ALGORITHM]:
                return "changed since it was written"
            return None
        with open(path, "rb") as f:
            for at, digest in entry.get("samples", []):
                if _block(f, int(at), block) != digest:
                    return f"changed since it was written (at byte {int(at)})"
    except FileNotFoundError:
        return "is missing"
    except (OSError, ValueError, TypeError, KeyError) as e:
        return f"is unreadable ({type(e).__name__})"
    return None


def _digest(path: Path) -> str:
    digest = hashlib.new(ALGORITHM)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_READ), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _positions(size: int) -> list[int]:
    """Offsets of the sampled blocks: evenly spread, the first and the last included."""
    last = max(size - BLOCK, 0)
    return sorted({round(i * last / (SAMPLES - 1)) for i in range(SAMPLES)})


def _block(f: BinaryIO, at: int, block: int) -> str:
    return hashlib.new(ALGORITHM, os.pread(f.fileno(), block, at)).hexdigest()[:16]
