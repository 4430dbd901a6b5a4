"""Helpers for tests that start real servers as subprocesses."""

from __future__ import annotations

import socket
import subprocess


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a server politely, then kill it if it hangs."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
