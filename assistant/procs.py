"""Processes working side by side: a lock on a file shared between them, and, for the bench and
the tests, servers in child processes (a free port, a start that waits until the server answers
or says why it did not, and a stop that always ends the process)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


class NotStarted(RuntimeError):
    """A server exited or stayed silent; the message ends with its log's last lines."""


@contextlib.contextmanager
def file_lock(path: Path, exclusive: bool, wait: bool = True):
    """flock(2) on `path`; BlockingIOError when `wait` is False and another holder conflicts.

    Locks belong to the open file, so two opens conflict even inside one process, and the
    kernel drops them when a holder dies: a killed ingest never leaves a stale lock.
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
                    | (0 if wait else fcntl.LOCK_NB))
        yield fh


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, chars: int = 1500) -> str:
    try:
        return Path(path).read_text(errors="replace")[-chars:].strip()
    except OSError:
        return ""


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        import urllib.request

        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
            return 200 <= resp.status < 300
    except Exception:
        return False


def wait_http(url: str, proc: subprocess.Popen, log: Path, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not http_ok(url):
        if proc.poll() is not None:
            raise NotStarted(f"{proc.args[0]} exited with {proc.returncode}: {tail(log)}")
        if time.monotonic() > deadline:
            raise NotStarted(f"no answer from {url} within {limit_s:.0f} s: {tail(log)}")
        time.sleep(0.25)


def stop(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


@contextlib.contextmanager
def running(args: list, log: Path, ready_url: str, *, env: dict | None = None,
            cwd: Path | None = None, limit_s: float = 120) -> Iterator[subprocess.Popen]:
    """The process of `args` (output to `log`) once `ready_url` answers 2xx; stopped on exit."""
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(a) for a in args], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=cwd)
    try:
        wait_http(ready_url, proc, log, limit_s)
        yield proc
    finally:
        stop(proc)
