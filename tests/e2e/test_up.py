"""`accord up --demo` end to end, as a newcomer meets it: a real `prefect server start` (its own
PREFECT_HOME under a temporary ACCORD_HOME, free ports), the served deployments, the reply app,
the dev mailbox; a round started through the API (run_deployment); every member answering from
the dev mailbox; the shipped automation publishing; the CLI's moving commands as flow runs on that
server; Ctrl-C stopping everything.

One stack for the module (starting one costs 15-30 s); the tests run in file order and the last
one stops it.
"""

from __future__ import annotations

import html
import re
import shutil
import signal
import smtplib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import PIPE, Popen
from typing import Any

import httpx
import pytest

from accord.config import Settings, load_settings
from accord.services.context import Context
from accord.services.demo import SAMPLE_REPORT
from accord.services.members import import_members
from accord.services.statements import draft_statement, show_statement
from tests.conftest import FIXTURES
from tests.e2e.processes import (
    Process,
    alive,
    clean_env,
    descendants,
    free_port,
    healthy,
    port_free,
    prefect_api,
    run,
    wait_for,
)
from tests.servers import smtp_server

pytestmark = pytest.mark.slow

DEMO_TITLE = "International Migrants Day 2026"
NOW = "2023-10-01T09:00:00+00:00"  # ACCORD_NOW of the CLI's own accord data


ACCORD = str(Path(sys.executable).parent / "accord")
UP = [ACCORD, "up", "--demo"]


@dataclass
class Stack:
    process: Process
    settings: Settings
    api: str
    web: str
    ports: list[int]
    started_in: float

    def ctx(self) -> Context:
        return Context(self.settings)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("up")
    prefect, web, smtp = free_port(), free_port(), free_port()
    values = {
        "home": str(root / "home"),
        "public_url": f"http://127.0.0.1:{web}",
        "smtp_port": str(smtp),
    }
    env = clean_env(
        **{f"ACCORD_{k.upper()}": v for k, v in values.items()},
        ACCORD_PREFECT_PORT=str(prefect),
        PREFECT_RUNNER_POLL_FREQUENCY="1",
    )
    began = time.monotonic()
    process = Process.start(UP, env, root)
    try:
        wait_for(lambda: process.said("accord is up"), "accord up --demo", timeout=180)
        yield Stack(
            process=process,
            settings=load_settings(**values),
            api=f"http://127.0.0.1:{prefect}/api",
            web=f"http://127.0.0.1:{web}",
            ports=[prefect, web, smtp],
            started_in=time.monotonic() - began,
        )
    finally:
        process.stop(signal.SIGINT)


def flow_runs(api: str, name: str) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    async def read() -> list[Any]:
        async with get_client() as client:
            wanted = FlowRunFilter(name=FlowRunFilterName(any_=[name]))
            return await client.read_flow_runs(flow_run_filter=wanted)

    with prefect_api(api):
        return run(read())


def run_deployment(api: str, name: str, **parameters: Any) -> Any:
    from prefect.deployments import arun_deployment

    with prefect_api(api):
        return run(arun_deployment(name, parameters=parameters, timeout=120, poll_interval=1))


def artifact_keys(api: str, flow_run_id: Any) -> set[str]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read() -> set[str]:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                )
            )
            return {a.key for a in found if a.key}

    with prefect_api(api):
        return run(read())


RECEIPT = re.compile(r"^(Your answer was recorded|Votre réponse est enregistrée)")


def mailbox_subjects(web: str, pattern: re.Pattern[str]) -> list[str]:
    listing = httpx.get(f"{web}/dev/mailbox").text
    subjects = re.findall(r'href="/dev/mailbox/[^"]+">([^<]*)</a>', listing)
    return [s for s in subjects if pattern.search(html.unescape(s))]


def invitation_links(web: str, title: str) -> list[str]:
    """Each member's link to the statement `title`, read as a person would: the mailbox page,
    then each message (invitations are in the member's language; the title is the same)."""
    listing = httpx.get(f"{web}/dev/mailbox").text
    links = []
    for message_id, subject in re.findall(r'href="/dev/mailbox/([^"]+)">([^<]*)</a>', listing):
        if subject.endswith(title):
            page = httpx.get(f"{web}/dev/mailbox/{message_id}").text
            links += re.findall(rf'href="({re.escape(web)}/r/[^"]+)"', page)[:1]
    return links


def test_up_demo_serves_everything(stack: Stack) -> None:
    print(f"accord up --demo ready in {stack.started_in:.1f} s")
    assert healthy(f"{stack.api}/health")
    ui = httpx.get(stack.api.removesuffix("/api") + "/", timeout=10)
    assert ui.status_code == 200 and "<html" in ui.text.lower()
    assert healthy(f"{stack.web}/healthz")
    mailbox = httpx.get(f"{stack.web}/dev/mailbox")
    assert mailbox.status_code == 200
    assert len(invitation_links(stack.web, DEMO_TITLE)) == 7
    with smtplib.SMTP("127.0.0.1", stack.ports[2], timeout=5) as smtp:
        assert smtp.noop()[0] == 250
    [demo_run] = flow_runs(stack.api, "circulate/international-migrants-day-2026/v1")
    assert demo_run.state.is_completed()


def test_a_round_through_the_api_on_the_served_deployment(stack: Stack) -> None:
    title = "World Day for Cultural Diversity 2027"
    statement = draft_statement(
        stack.ctx(), title=title, kind="awareness-day", body="Diversity is our common wealth.\n"
    )
    deadline = datetime.now(UTC) + timedelta(days=7)
    flow_run = run_deployment(
        stack.api,
        "circulate-round/accord",
        statement_id=statement.id,
        group="Advisory Group",
        rule="majority",
        deadline=deadline.isoformat(),
    )
    assert flow_run.state.is_completed(), flow_run.state
    assert flow_run.name == "circulate/world-day-for-cultural-diversity-2027/v1"
    assert {"kind:awareness-day", "group:advisory-group", "accord"} <= set(flow_run.tags)
    assert "round-2-tally" in artifact_keys(stack.api, flow_run.id)
    assert len(invitation_links(stack.web, title)) == 7


def test_members_answer_from_the_mailbox_and_the_automation_publishes(stack: Stack) -> None:
    links = invitation_links(stack.web, DEMO_TITLE)
    for link in links:
        assert httpx.get(link).status_code == 200
        recorded = httpx.post(link, data={"decision": "endorse", "comment": ""})
        assert recorded.status_code == 200, recorded.text
    ctx = stack.ctx()
    assert show_statement(ctx, 1).state == "endorsed"
    # Each member's receipt arrives within seconds (the courier), not at the 5-minute sweep.
    wait_for(lambda: len(mailbox_subjects(stack.web, RECEIPT)) == len(links), "the receipts", 30)
    sweep = run_deployment(stack.api, "sweep/accord")  # announces the close: the automation fires
    assert sweep.state.is_completed(), sweep.state
    wait_for(lambda: show_statement(ctx, 1).state == "published", "the automation", 60)
    published = wait_for(
        lambda: [
            r
            for r in flow_runs(stack.api, "publish/international-migrants-day-2026")
            if r.state.is_completed()
        ],
        "the publish run to complete",
        30,
    )
    assert (
        published
        and (stack.settings.home / "site" / "international-migrants-day-2026.html").exists()
    )


class Sink:
    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:
        return "250 OK"


def cli_flow_runs(api: str, since: datetime) -> list[Any]:
    """Flow runs without a deployment (started by a command, not the runner) since `since`."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterStartTime,
    )

    async def read() -> list[Any]:
        async with get_client() as client:
            wanted = FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(is_null_=True),
                start_time=FlowRunFilterStartTime(after_=since),
            )
            return await client.read_flow_runs(flow_run_filter=wanted)

    with prefect_api(api):
        return run(read())


def test_cli_commands_that_move_things_are_flow_runs_with_the_same_output(
    stack: Stack, tmp_path: Path, sqlite_template: Path
) -> None:
    """With PREFECT_API_URL set, `report import`, `rounds start` and `sweep` are each a flow run
    on the stack's Prefect server, named after their work and Completed, and print exactly what
    the same command prints without a server (`statements publish`: tests/flows).

    The commands work on accord data of their own (the stack's runner, schedules and courier
    never touch it): `home` as flow runs and, at the same time, `twin`, a copy, directly."""
    home, twin = tmp_path / "home", tmp_path / "twin"
    home.mkdir()
    shutil.copy(sqlite_template, home / "accord.db")
    ctx = Context(load_settings(home=str(home), now=NOW))
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(
        ctx, title="Human Rights Day 2023", kind="awareness-day", body="Rights are universal.\n"
    )
    ctx.db.dispose()
    shutil.copytree(home, twin)

    start = ["--group", "Advisory Group", "--rule", "majority", "--deadline", "2023-10-10T18:00"]
    steps = {
        "import": ["report", "import", str(SAMPLE_REPORT), "--json"],
        "start": ["rounds", "start", str(statement.id), *start],
        "sweep": ["sweep"],
    }
    said: dict[str, str] = {}
    took: dict[str, float] = {}
    since = datetime.now(UTC)
    with smtp_server(Sink()) as smtp_port:
        common = {"ACCORD_NOW": NOW, "ACCORD_SMTP_HOST": "127.0.0.1"}
        common["ACCORD_SMTP_PORT"] = str(smtp_port)
        as_flow = clean_env(
            **common,
            ACCORD_HOME=str(home),
            PREFECT_API_URL=stack.api,
            PREFECT_HOME=str(tmp_path / "prefect-client"),
        )
        direct = clean_env(**common, ACCORD_HOME=str(twin))
        for step, args in steps.items():
            began = time.monotonic()
            flow, plain = (
                Popen([ACCORD, *args], env=env, stdout=PIPE, stderr=PIPE, text=True)
                for env in (as_flow, direct)
            )
            (out, err), (plain_out, plain_err) = flow.communicate(120), plain.communicate(120)
            took[step] = time.monotonic() - began
            assert flow.returncode == 0, err
            assert plain.returncode == 0, plain_err
            assert (out, err) == (plain_out, plain_err), step
            said[step] = out + err
    print(
        "flow run and direct side by side: " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items())
    )
    assert said["import"].startswith("{") and "mail: 7 sent" in said["start"]
    assert said["sweep"].startswith("open_rounds: 1, ")

    runs = cli_flow_runs(stack.api, since)
    assert sorted(r.name for r in runs) == [
        "circulate/human-rights-day-2023/v1",
        "import/icc-advisory-group-2023-07",
        "sweep/2023-10-01T11:00",
    ]
    assert all(r.state.is_completed() for r in runs), [(r.name, r.state) for r in runs]
    [circulate] = [r for r in runs if r.name.startswith("circulate/")]
    assert {"kind:awareness-day", "group:advisory-group", "mode:endorse"} <= set(circulate.tags)
    # What the work needs and nothing else: no secret, no reply key, no setting.
    assert {r.name.split("/")[0]: set(r.parameters) for r in runs} == {
        "import": {"path", "dry_run", "partial", "update", "meeting_date", "next_meeting"},
        "circulate": {"statement_id", "group", "rule", "deadline", "mode", "batch"},
        "sweep": {"batch"},
    }


def test_the_demo_prints_a_console_login_that_works(stack: Stack) -> None:
    from tests.console.helpers import Console

    found = re.search(r"console login\s+(\S+)\s+password (\S+)", stack.process.output)
    assert found, stack.process.output
    assert f"console         {stack.web}/console/" in stack.process.output
    console = Console.at(stack.web)
    done = console.log_in(found.group(1), found.group(2))
    assert done.status_code == 303, done.text
    assert "Demo Secretariat" in console.http.get("/console/").text
    console.http.close()


def test_ctrl_c_stops_everything_within_10_s(stack: Stack) -> None:
    family = descendants(stack.process.popen.pid)
    assert len(family) >= 2, family  # the Prefect server and the serving process, at least
    began = time.monotonic()
    stack.process.popen.send_signal(signal.SIGINT)
    stack.process.popen.wait(15)
    took = time.monotonic() - began
    print(f"accord up stopped in {took:.1f} s")
    assert took < 10
    assert [pid for pid in family if alive(pid)] == []
    assert all(port_free(port) for port in stack.ports)
