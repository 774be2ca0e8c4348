"""Run what a CLI command moves as a flow run when a Prefect server is configured, else directly.

With PREFECT_API_URL set, the command runs the flow in its own process against that server: the
run shows in the UI (name, tags, artifacts, events) and the command still prints its result.
Without it the command calls the same services directly: never a temporary Prefect server, which
costs seconds per command. Importing this module imports no Prefect.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from statemachines.errors import AccordError

T = TypeVar("T")

HEALTH_TIMEOUT_S = 2.0
FLUSH_TIMEOUT_S = 5.0
# Flow logs go to the server; on the terminal they would mix with the command's own output (and
# a failed run's traceback with its one-line error).
QUIET_CONSOLE = {"PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL"}


class OrchestratorError(AccordError):
    """The Prefect server failed a command's flow run (not the work itself)."""


def prefect_api_url() -> str | None:
    return os.environ.get("PREFECT_API_URL", "").strip() or None


def api_healthy(url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    """Whether the API answers `/health` (a self-hosted server answers it without credentials;
    Prefect Cloud gets the API key the Prefect client would send, PREFECT_API_KEY)."""
    request = urllib.request.Request(f"{url.rstrip('/')}/health")
    key = os.environ.get("PREFECT_API_KEY", "").strip()
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def run_flow_or_direct(flow: str, parameters: dict[str, Any], direct: Callable[[], T]) -> Any:
    """The flow `module:function` (e.g. `flows.rounds:circulate_round`) with `parameters` as a
    flow run when PREFECT_API_URL is set and answers; otherwise `direct()`.

    A server that is configured but down gets a warning and the direct path: the database is
    the source of truth, and the work must not wait for the orchestrator."""
    url = prefect_api_url()
    if url is None:
        return direct()
    if not api_healthy(url):
        sys.stderr.write(
            f"warning: the Prefect API at {url} does not answer; running without a flow run\n"
        )
        return direct()
    return run_flow(flow, parameters)


def quiet_console() -> None:
    """Keep flow logs off this terminal (they still go to the server); before importing Prefect."""
    for key, value in QUIET_CONSOLE.items():
        os.environ.setdefault(key, value)


def run_flow(flow: str, parameters: dict[str, Any]) -> Any:
    """Run the flow `module:function` in this process (PREFECT_API_URL set) and return its
    result; a failed run raises its error."""
    quiet_console()
    module, _, name = flow.partition(":")
    function = getattr(importlib.import_module(module), name)
    try:
        return asyncio.run(function(**parameters))
    except AccordError:
        raise  # the work's own refusal (unknown statement, wrong state): said as it is
    except Exception as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise OrchestratorError(
            f"the Prefect API at {prefect_api_url()} failed during the run "
            f"({type(error).__name__}: {message}); see the run in the Prefect UI, "
            "or unset PREFECT_API_URL to run without it"
        ) from error
    finally:
        flush_to_server()


def flush_to_server(timeout: float = FLUSH_TIMEOUT_S) -> None:
    """Send the run's last logs and events now, while the server is surely up; left to exit,
    they would hold this process while retrying a server that `accord up` has just stopped."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        service.drain_all(timeout=timeout, at_exit=False)
