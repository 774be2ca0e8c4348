"""Flow tests: the session's real Prefect server (`prefect_server`, shared with the worker test;
tests that run no flow do not start it), an SMTP sink on a free port, and accord's database from
the shared fixtures.

The flows read their settings from the environment, like a served flow run does, so each test
sets ACCORD_* (the `accord_env` fixture) and points ACCORD_SMTP_HOST/PORT at the sink.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def prefect_harness(prefect_server: str) -> Iterator[None]:
    """This process's Prefect client pointed at the session's server."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.launch import flush_to_server

    with temporary_settings({PREFECT_API_URL: prefect_server}):
        yield
        flush_to_server()  # the last logs and events, while the server is still up


@pytest.fixture(autouse=True)
def quick_mail_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """One immediate retry instead of three with backoff (10, 20, 40 s)."""
    import flows.mail

    quick = flows.mail.deliver_batch.with_options(retries=1, retry_delay_seconds=0)
    monkeypatch.setattr(flows.mail, "deliver_batch", quick)


@pytest.fixture
def events(prefect_harness: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The events the flows emit, recorded in memory on their way to the server (which needs
    them: task runs are recorded from events)."""
    from prefect.events.clients import AssertingPassthroughEventsClient
    from prefect.events.worker import EventsWorker

    worker = EventsWorker.instance(AssertingPassthroughEventsClient)
    monkeypatch.setattr(EventsWorker, "instance", lambda *_: worker)
    recorded: list[Any] = []
    yield recorded
    worker.drain()


def accord_events(recorded: list[Any]) -> list[Any]:
    """Drain the recording worker into `recorded` and return accord's events in order."""
    from prefect.events.worker import EventsWorker

    worker = EventsWorker.instance()
    worker.drain()
    recorded[:] = [e for e in worker._client.events if e.event.startswith("accord.")]
    return recorded


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sink:
    """An aiosmtpd server that keeps (envelope recipients, raw bytes) of every message."""

    port: int
    messages: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[Sink]:
    from aiosmtpd.controller import Controller

    sink = Sink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def flow_env(
    prefect_harness: None,
    accord_env: dict[str, str],
    smtp_sink: Sink,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """accord's test environment, with mail going to the sink (emptied for each test)."""
    smtp_sink.messages.clear()
    env = {**accord_env, "ACCORD_SMTP_HOST": "127.0.0.1", "ACCORD_SMTP_PORT": str(smtp_sink.port)}
    monkeypatch.setenv("ACCORD_SMTP_HOST", env["ACCORD_SMTP_HOST"])
    monkeypatch.setenv("ACCORD_SMTP_PORT", env["ACCORD_SMTP_PORT"])
    return env


@pytest.fixture
def home(flow_env: dict[str, str]) -> Path:
    return Path(flow_env["ACCORD_HOME"])


@pytest.fixture
def db_url(tmp_path: Path, sqlite_template: Path) -> str:
    """Flow tests run on SQLite only: storage is tested on both databases elsewhere, and the
    PostgreSQL path of the flows is the worker test's (tests/e2e)."""
    import shutil

    target = tmp_path / "home" / "accord.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"
