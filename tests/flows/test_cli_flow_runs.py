"""The CLI's moving commands: a flow run when PREFECT_API_URL is set, the services directly when it
is not, and the same output either way. `statements publish` here (first and again); `rounds
start`, `report import` and `sweep` as subprocesses against a real server in tests/e2e/test_up.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from accord.config import load_settings
from accord.services.context import Context
from accord.services.delivery import deliver
from accord.services.demo import SAMPLE_REPORT
from accord.services.members import import_members
from accord.services.results import plain
from accord.services.rounds import start_round
from accord.services.statements import draft_statement
from tests.cli import run
from tests.conftest import FIXED_NOW, FIXTURES
from tests.flows import api
from tests.flows.bulk import answer

EMAILS = [
    line.split(",")[1]
    for line in (FIXTURES / "members.csv").read_text(encoding="utf-8").splitlines()[1:]
]


def endorsed_statement() -> int:
    """A statement whose round all seven members endorsed (so it closed, endorsed), its mail
    sent (ACCORD_SMTP_* set)."""
    ctx = Context(load_settings())
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(
        ctx, title="Human Rights Day 2026", kind="awareness-day", body="Rights are universal.\n"
    ).id
    rnd = plain(
        start_round(
            ctx,
            statement_id=statement,
            group="Advisory Group",
            rule="majority",
            deadline=FIXED_NOW + timedelta(days=10),
            mode="endorse",
        )
    )
    for email in EMAILS:
        answer(ctx, rnd["id"], email, "endorse")
    assert deliver(ctx).sent == 15  # invitations, receipts, the result to the secretariat
    ctx.db.dispose()
    return int(statement)


def test_statements_publish_prints_the_same_as_a_flow_run_first_and_again(
    flow_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL

    statement = str(endorsed_statement())
    home = Path(flow_env["ACCORD_HOME"])
    twin = home.parent / "twin"
    shutil.copytree(home, twin)
    server = PREFECT_API_URL.value()

    def publish(*args: str, as_flow: bool) -> tuple[int, str, str]:
        if as_flow:
            monkeypatch.setenv("PREFECT_API_URL", server)
            monkeypatch.setenv("ACCORD_HOME", str(home))
            monkeypatch.setenv("ACCORD_DATABASE_URL", flow_env["ACCORD_DATABASE_URL"])
        else:
            monkeypatch.delenv("PREFECT_API_URL", raising=False)
            monkeypatch.setenv("ACCORD_HOME", str(twin))
            monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{twin / 'accord.db'}")
        done = run("statements", "publish", statement, *args)
        assert done.code == 0, done.stderr
        return done.code, done.stdout.replace(str(twin), str(home)), done.stderr

    since = datetime.now(UTC)
    first = publish(as_flow=True)
    assert first == publish(as_flow=False)
    assert first[1].startswith(f"published {home / 'site'}") and first[2] == "mail: 7 sent\n"
    again = publish("--json", as_flow=True)
    assert again == publish("--json", as_flow=False)
    assert '"already_published": true' in again[1] and again[2] == ""

    runs = api.run(published_runs(since))
    assert [r.name for r in runs] == ["publish/human-rights-day-2026"] * 2
    assert all(r.state.is_completed() for r in runs)
    assert all(r.parameters == {"statement_id": int(statement)} for r in runs)


async def published_runs(since: datetime) -> list[object]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterStartTime

    async with get_client() as client:
        return await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since))
        )


def test_without_a_server_the_moving_commands_never_import_prefect(
    accord_env: dict[str, str], smtp_sink: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Importing Prefect costs about a second: a command that needs no flow run does not pay it."""
    smtp = {"ACCORD_SMTP_HOST": "127.0.0.1", "ACCORD_SMTP_PORT": str(smtp_sink.port)}
    for key, value in smtp.items():
        monkeypatch.setenv(key, value)
    statement = endorsed_statement()
    ctx = Context(load_settings())
    draft = draft_statement(ctx, title="Second", kind="awareness-day", body="Text.\n").id
    ctx.db.dispose()
    start = ["--group", "Advisory Group", "--rule", "majority", "--deadline", "2023-10-10T18:00"]
    commands = [
        ["report", "import", str(SAMPLE_REPORT)],
        ["rounds", "start", str(draft), *start],
        ["statements", "publish", str(statement)],
        ["statements", "publish", str(statement)],
        ["sweep"],
    ]
    code = (
        "import sys\n"
        "from tests.cli import run\n"
        f"for args in {commands!r}:\n"
        "    done = run(*args)\n"
        "    assert done.code == 0, (args, done.stderr)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect')[:5])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(accord_env, **smtp)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])  # for tests.cli
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
