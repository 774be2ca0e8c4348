"""CLI work as a flow run when a Prefect API is configured, directly otherwise."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading

import pytest

from flows.launch import run_flow_or_direct
from tests.cli import accord
from tests.flows import api

# The Prefect client retries a 503 five times with backoff: once is enough to see the failure.
NO_RETRIES = {"PREFECT_CLIENT_MAX_RETRIES": "0"}


def test_without_a_server_it_calls_the_service_and_never_imports_prefect() -> None:
    code = (
        "import os, sys; os.environ.pop('PREFECT_API_URL', None)\n"
        "from flows.launch import run_flow_or_direct\n"
        "assert run_flow_or_direct('flows.sweep:sweep', {}, lambda: 'direct') == 'direct'\n"
        "assert 'prefect' not in sys.modules, 'prefect was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_configured_server_that_is_down_gets_a_warning(monkeypatch, capsys) -> None:
    from tests.flows.conftest import free_port

    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    assert run_flow_or_direct("flows.sweep:sweep", {}, lambda: "direct") == "direct"
    assert "does not answer" in capsys.readouterr().err


def test_with_a_server_it_is_a_flow_run(flow_env, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL

    monkeypatch.setenv("PREFECT_API_URL", PREFECT_API_URL.value())
    result = run_flow_or_direct("flows.sweep:sweep", {}, lambda: "direct")
    assert result["open_rounds"] == 0 and result["mail_sent"] == 0

    async def latest() -> object:
        async with get_client() as client:
            return (await client.read_flow_runs(limit=1, sort="START_TIME_DESC"))[0]

    assert api.run(latest()).name == "sweep/2023-10-01T11:00"


def test_a_cli_flow_run_keeps_stdout_for_the_command_and_errors_to_one_line(flow_env) -> None:
    """What a command sees: the flow's result, nothing on stdout, and a failed run's error as
    the exception (Prefect's own logs and tracebacks stay off the terminal)."""
    from prefect.settings import PREFECT_API_URL

    code = (
        "from flows.launch import run_flow_or_direct\n"
        "from statemachines.errors import NotFound\n"
        "result = run_flow_or_direct('flows.sweep:sweep', {}, lambda: None)\n"
        "assert result['open_rounds'] == 0, result\n"
        "try:\n"
        "    run_flow_or_direct('flows.rounds:publish_statement', {'statement_id': 99}, None)\n"
        "except NotFound as exc:\n"
        "    print(exc, file=__import__('sys').stderr)\n"
    )
    env = {**os.environ, **flow_env, "PREFECT_API_URL": PREFECT_API_URL.value()}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == "no statement with id 99"


class _HealthyButBroken(http.server.BaseHTTPRequestHandler):
    """A Prefect API that says it is healthy, then refuses every real call."""

    def _answer(self) -> None:
        status = 200 if self.path.endswith("/health") else 503
        body = b"true" if status == 200 else b'{"detail": "down for maintenance"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

    def log_message(self, *_: object) -> None:
        pass


def test_a_server_failing_during_the_run_is_one_line_not_a_traceback(accord_env) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HealthyButBroken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/api"
        done = accord("sweep", env={**accord_env, "PREFECT_API_URL": url, **NO_RETRIES})
    finally:
        server.shutdown()
    assert done.code == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"error: the Prefect API at {url} failed"), lines
