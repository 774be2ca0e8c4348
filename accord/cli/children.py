"""The child processes of `accord up`: each in its own process group, stopped in order, none
left behind (their descendants are found through /proc and killed too), and the waits for
each to answer."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from accord.cli.common import fail

HOST = "127.0.0.1"
START_TIMEOUT_S = 90.0
STOP_GRACE_S = 3.0


@dataclass
class Child:
    """A subprocess in its own process group."""

    name: str
    process: subprocess.Popen[bytes]
    stop_signal: signal.Signals

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """Signal the group, wait, then kill the group and any descendant that left it."""
        pid = self.process.pid
        family = descendants(pid)
        signal_group(pid, self.stop_signal)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            signal_group(pid, signal.SIGKILL)
            self.process.wait(2)
        for leftover in family:
            kill(leftover)


def on_signals(stopping: threading.Event) -> None:
    def handler(_signum: int, _frame: object) -> None:
        """The first signal interrupts whatever is starting; later ones wait for the stop."""
        if not stopping.is_set():
            stopping.set()
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def wait_until(ready: Callable[[], bool], what: str, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if not alive():
            fail(f"{what} did not start; see the logs")
        if time.monotonic() > deadline:
            fail(f"{what} did not answer within {START_TIMEOUT_S:.0f} s")
        time.sleep(0.2)


def answers(url: str) -> bool:
    """GET `url` answers 200 (404, refused, timed out: not yet)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM if `accord up` itself dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc; elsewhere none, the group kill has to do)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        frontier += children
    return found


def signal_group(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
