"""One writer at a time per index, across processes: a file lock and a note of who holds it.

The lock is an flock (filelock), which the OS releases when its holder dies, so a crashed
ingest never blocks the next one; what a crash leaves is the holder's note
(``.writer.lock.owner``: pid, host, start time), which the next writer replaces and mentions.
A holder that is alive but stuck (stopped with ^Z or SIGSTOP, hung on a network disk) keeps
the lock: a waiting writer names it, then gives up after ``store.lock_timeout_s`` saying what
to do.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import IndexBusyError, IndexWriteError
from .files import atomic_write_text

WRITER_LOCK = ".writer.lock"
OWNER = ".writer.lock.owner"
DEFAULT_TIMEOUT_S = 600.0  # the setting's default: a 1M-chunk save takes about a minute
_TIMEOUT_SETTING = "ASSISTANT_STORE__LOCK_TIMEOUT_S"
_DAY = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class LockOwner:
    """Who holds (or last held) an index's writer lock."""

    pid: int
    host: str
    started: float  # seconds since the epoch
    command: str = ""

    def describe(self) -> str:
        """``pid 1234, started 12:03:10`` (the date when not today, the host when not this)."""
        when = time.localtime(self.started)
        today = time.localtime()[:3] == when[:3]
        text = f"pid {self.pid}, started {time.strftime('%H:%M:%S' if today else _DAY, when)}"
        return text if self.local else f"{text} on {self.host}"

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()

    def alive(self) -> bool | None:
        """Whether its process still runs (None: on another host, not knowable from here)."""
        if not self.local:
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process
            return True
        return _state(self.pid) != "Z"  # a zombie has exited

    def stopped(self) -> bool:
        """Stopped by a signal (^Z, SIGSTOP): it holds the lock until it is resumed."""
        return self.local and _state(self.pid) in ("T", "t")


def read_owner(index_dir: Path) -> LockOwner | None:
    """The holder's note, or None when there is none (or it does not parse)."""
    try:
        raw = json.loads((index_dir / OWNER).read_text(encoding="utf-8"))
        return LockOwner(
            int(raw["pid"]), str(raw["host"]), float(raw["started"]), str(raw.get("command", ""))
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None


@contextmanager
def writer_lock(
    index_dir: Path,
    notify: Callable[[str], None] | None = None,
    timeout_s: float | None = None,
) -> Iterator[None]:
    """Hold the index's writer lock (across processes). While another writer has it, say who
    and wait, up to ``timeout_s`` (``store.lock_timeout_s``), then raise ``IndexBusyError``."""
    timeout = DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(index_dir / WRITER_LOCK, mode=0o644)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = read_owner(index_dir)
            if notify is not None:
                who = f" ({holder.describe()})" if holder is not None else ""
                notify(
                    f"waiting for another ingest{who} to finish… (giving up after {timeout:g} s)"
                )
            try:
                lock.acquire(timeout=timeout)
            except Timeout:
                raise IndexBusyError(
                    _busy(index_dir, read_owner(index_dir) or holder, timeout)
                ) from None
    except OSError as e:
        raise IndexWriteError(
            f"cannot write the index at {index_dir} ({e.strerror or e}): check its permissions "
            "or point ASSISTANT_PATHS__INDEX_DIR at a folder you can write"
        ) from e
    mine = LockOwner(os.getpid(), socket.gethostname(), time.time(), " ".join(sys.argv)[:300])
    try:
        stale = read_owner(index_dir)
        _write_owner(index_dir, mine)
        if stale is not None and stale.pid != mine.pid and notify is not None:
            gone = (
                "is no longer running" if stale.alive() is False else "ended without releasing it"
            )
            notify(
                f"took over the index's writer lock from an ingest ({stale.describe()}) that {gone}"
            )
        yield
    finally:
        if read_owner(index_dir) == mine:
            with suppress(OSError):
                (index_dir / OWNER).unlink()
        lock.release()


def _write_owner(index_dir: Path, owner: LockOwner) -> None:
    """The note is for people and waiting writers: failing to write it must not stop a write."""
    with suppress(OSError):
        atomic_write_text(index_dir / OWNER, json.dumps(asdict(owner)) + "\n")


def _busy(index_dir: Path, holder: LockOwner | None, timeout: float) -> str:
    if holder is None:
        return (
            f"another ingest still holds the index at {index_dir} after {timeout:g} s: let it "
            f"finish and run the command again ({_TIMEOUT_SETTING} sets how long to wait)"
        )
    where = "" if holder.local else f" on {holder.host}"
    state = (
        f", and it is stopped (`kill -CONT {holder.pid}` resumes it)" if holder.stopped() else ""
    )
    return (
        f"another ingest ({holder.describe()}) still holds the index at {index_dir} after "
        f"{timeout:g} s{state}: let it finish, or stop it (`kill {holder.pid}`{where}), and run "
        f"the command again ({_TIMEOUT_SETTING} sets how long to wait)"
    )


def _state(pid: int) -> str:
    """The process state letter from /proc (Linux); empty where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""
