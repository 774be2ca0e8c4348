"""Going to production: the Prefect server on PostgreSQL, accord on PostgreSQL, the deployments
of prefect.yaml deployed to a process work pool, and a `prefect worker` running a round."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accord.config import load_settings
from accord.services.context import Context
from accord.services.members import import_members
from accord.services.statements import draft_statement
from tests.conftest import FIXTURES, _pg_admin, _sqlalchemy_pg_url
from tests.e2e.processes import Process, clean_env, prefect_api, run
from tests.servers import smtp_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]


class Sink:
    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.recipients += envelope.rcpt_tos
        return "250 OK"


@pytest.fixture
def accord_database(pg_template: str) -> Iterator[str]:
    name = f"accord_e2e_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _sqlalchemy_pg_url(name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prefect(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [*PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_process_worker_runs_a_round_with_prefect_on_postgresql(
    tmp_path: Path, prefect_server: str, accord_database: str
) -> None:
    """`prefect_server` is the session's server on PostgreSQL (tests/conftest.py)."""
    sink = Sink()
    with smtp_server(sink) as smtp_port:
        env = clean_env(
            ACCORD_HOME=str(tmp_path / "home"),
            ACCORD_DATABASE_URL=accord_database,
            ACCORD_SMTP_HOST="127.0.0.1",
            ACCORD_SMTP_PORT=str(smtp_port),
            PREFECT_API_URL=prefect_server,
            PREFECT_HOME=str(tmp_path / "client"),
            ACCORD_CHECKOUT=str(ROOT),
            PREFECT_WORKER_QUERY_SECONDS="1",
        )
        prefect("work-pool", "create", "accord", "--type", "process", env=env)
        prefect("--no-prompt", "deploy", "--all", env=env)
        worker = Process.start(
            [*PREFECT, "worker", "start", "--pool", "accord", "--type", "process"], env, ROOT
        )
        try:
            settings = load_settings(home=env["ACCORD_HOME"], database_url=accord_database)
            ctx = Context(settings)
            import_members(ctx, FIXTURES / "members.csv")
            statement = draft_statement(
                ctx, title="Migrants Day on PostgreSQL", kind="awareness-day", body="Text.\n"
            )
            ctx.db.dispose()
            flow_run = run_on(prefect_server, statement.id)
            assert flow_run.state.is_completed(), worker.output
            assert flow_run.name == "circulate/migrants-day-on-postgresql/v1"
            assert len(sink.recipients) == 7
        finally:
            worker.stop(signal.SIGINT)


def run_on(api: str, statement_id: int) -> Any:
    from prefect.deployments import arun_deployment

    deadline = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    parameters = {
        "statement_id": statement_id,
        "group": "Advisory Group",
        "rule": "majority",
        "deadline": deadline,
    }
    with prefect_api(api):
        return run(
            arun_deployment(
                "circulate-round/accord", parameters=parameters, timeout=180, poll_interval=1
            )
        )
