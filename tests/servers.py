"""Real servers for tests: free ports, the reply app in a thread, waiting for a condition."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from accord.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The reply app on these settings, served by uvicorn on a free port in a thread."""
    from accord.web.app import create_app, server_config

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(server_config(create_app(settings), "127.0.0.1", port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def smtp_server(handler: object, port: int | None = None) -> Iterator[int]:
    """An aiosmtpd server with `handler` on a free port (or `port`) in a thread; yields its port."""
    from aiosmtpd.controller import Controller

    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    try:
        yield int(controller.port)
    finally:
        controller.stop()


@contextmanager
def web_process(env: dict[str, str], log: Path) -> Iterator[str]:
    """`accord web` in its own process (its own interpreter, as deployed) on a free port, its
    output (uvicorn's access log included) in `log`; yields the base URL."""
    import httpx

    from tests.cli import spawn

    port = free_port()
    process = spawn("web", "--host", "127.0.0.1", "--port", str(port), env=env, output=log)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"accord web exited: {log.read_text(encoding='utf-8')}")
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, "accord web to answer", 30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
