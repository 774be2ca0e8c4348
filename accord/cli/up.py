"""`accord up [--demo]`: the whole product on one machine, until Ctrl-C (the command and its
options are in accord.cli; this module is imported when it runs).

- `prefect server start` on 127.0.0.1:4200 (its SQLite database under ACCORD_HOME/prefect),
  unless PREFECT_API_URL names a server already running elsewhere;
- `python -m flows.serve`: every deployment, served in one process, with PREFECT_API_URL set;
- in this process, the reply app (uvicorn, in a thread) and, when ACCORD_SMTP_HOST is unset, the
  dev mailbox (aiosmtpd, storing under ACCORD_HOME/mailbox; the reply app shows it at
  /dev/mailbox);
- in this process, a courier thread that sends what waits in the outbox every few seconds, so a
  member's receipt does not wait for the 5-minute sweep (the sweep still sends whatever is left;
  both claim rows, so nothing goes twice).

Each child runs in its own process group, so the terminal's Ctrl-C reaches only this process,
which then stops them in order: the serving process first (it pauses its schedules through the
server), then the server, each given a few seconds before its whole group is killed. Children
also get SIGTERM if this process dies (Linux), so none is left behind.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import typer

from accord.cli.children import (
    HOST,
    STOP_GRACE_S,
    Child,
    answers,
    die_with_parent,
    on_signals,
    port_free,
    wait_until,
)
from accord.cli.common import fail

if TYPE_CHECKING:
    from accord.config import Settings
    from accord.services.context import Context

COURIER_EVERY_S = 5.0
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def up(demo: bool, prefect_port: int, web_port: int | None, report: Path | None) -> None:
    """Prefect server, served deployments, reply app and dev mailbox, until Ctrl-C."""
    from accord.cli.common import context
    from accord.services.setup import init_database

    began = time.monotonic()
    ctx = context(require_ready=False)
    init_database(ctx)
    plan = Plan.from_settings(ctx.settings, prefect_port, web_port)
    os.environ.update(_prefect_env(plan))  # before anything imports Prefect (it reads them once)
    stack = Stack(plan)
    stack.check_ports()
    stopping = threading.Event()
    on_signals(stopping)
    try:
        stack.start()
        start_demo_round = _demo_data(ctx, report) if demo else None  # while the server starts
        login = _demo_login(ctx) if demo else None
        stack.wait_for_api()
        if start_demo_round:
            start_demo_round()
        stack.wait_until_served()
        _print_urls(plan, time.monotonic() - began, login)
        stack.watch(stopping)
    finally:
        started = time.monotonic()
        stack.stop()
        sys.stderr.write(f"stopped in {time.monotonic() - started:.1f} s\n")


@dataclass(frozen=True)
class Plan:
    """Where everything listens and keeps its files."""

    settings: Settings
    prefect_api: str  # http://HOST:PORT/api
    own_server: bool  # False when PREFECT_API_URL names a server we do not run
    web_port: int
    smtp_port: int | None  # None: a real SMTP server is configured
    logs: Path

    @classmethod
    def from_settings(cls, settings: Settings, prefect_port: int, web_port: int | None) -> Plan:
        external = os.environ.get("PREFECT_API_URL", "").strip().rstrip("/")
        own = f"http://{HOST}:{prefect_port}/api"
        return cls(
            settings=settings,
            prefect_api=external or own,
            own_server=not external or external == own,
            web_port=web_port or _public_port(settings.public_url),
            smtp_port=settings.smtp_address[1] if settings.uses_dev_mailbox else None,
            logs=settings.home / "logs",
        )

    @property
    def prefect_port(self) -> int:
        return urlparse(self.prefect_api).port or 4200

    @property
    def prefect_home(self) -> Path:
        return self.settings.home / "prefect"

    def ports(self) -> list[int]:
        ports = [self.web_port] + ([self.prefect_port] if self.own_server else [])
        return ports + ([self.smtp_port] if self.smtp_port else [])


def _public_port(public_url: str) -> int:
    """The port of ACCORD_PUBLIC_URL when it is this machine, so links in mail reach the app."""
    parsed = urlparse(public_url)
    if parsed.hostname in LOCAL_HOSTS and parsed.port:
        return parsed.port
    return 8000


@dataclass
class Stack:
    plan: Plan
    children: list[Child] = field(default_factory=list)
    mailbox: Any = None
    web: Any = None
    web_thread: threading.Thread | None = None
    courier: threading.Thread | None = None
    courier_stop: threading.Event = field(default_factory=threading.Event)

    def check_ports(self) -> None:
        busy = [port for port in self.plan.ports() if not port_free(port)]
        if busy:
            fail(f"port(s) {', '.join(map(str, busy))} already in use (see `accord up --help`)")

    def start(self) -> None:
        self.plan.logs.mkdir(parents=True, exist_ok=True)
        """The server and the serving process (which waits for the server), the dev mailbox
        and the reply app; `wait_for_api` then waits for the server."""
        if self.plan.own_server:
            server = ["prefect", "server", "start", "--host", HOST]
            port = ["--port", str(self.plan.prefect_port)]
            self._spawn("prefect server", [sys.executable, "-m", *server, *port], signal.SIGTERM)
        self._spawn("serve", [sys.executable, "-m", "flows.serve"], signal.SIGINT)
        if self.plan.smtp_port:
            self._start_mailbox()
        self._start_web()
        self._start_courier()

    def wait_until_served(self) -> None:
        """Until the serving process has registered the deployments (the last one in order)."""
        from flows.deployments import DEPLOYMENT, SPECS

        last = f"{self.plan.prefect_api}/deployments/name/{SPECS[-1].flow_name}/{DEPLOYMENT}"
        serve = self.children[-1]
        wait_until(lambda: answers(last), "the served deployments", serve.alive)

    def watch(self, stopping: threading.Event) -> None:
        """Until a signal, or until a part stops by itself (then say which, and stop)."""
        while not stopping.wait(0.5):
            dead = [c.name for c in self.children if not c.alive()]
            if dead or (self.web_thread and not self.web_thread.is_alive()):
                sys.stderr.write(
                    f"error: {', '.join(dead) or 'the reply app'} stopped; see {self.plan.logs}\n"
                )
                return

    def stop(self) -> None:
        if self.web is not None:
            self.web.should_exit = True
        for child in reversed(self.children):  # serve first (started last), then the server
            child.stop()
        if self.web_thread is not None:
            self.web_thread.join(STOP_GRACE_S)
        self.courier_stop.set()
        if self.courier is not None:
            self.courier.join(STOP_GRACE_S)
        if self.mailbox is not None:
            self.mailbox.stop()

    def _spawn(self, name: str, command: list[str], stop_signal: signal.Signals) -> None:
        log = (self.plan.logs / f"{name.replace(' ', '-')}.log").open("ab")
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        log.close()
        self.children.append(Child(name, process, stop_signal))

    def _start_mailbox(self) -> None:
        from accord.mail.devmailbox import mailbox_folder, start_dev_mailbox

        folder = mailbox_folder(self.plan.settings)
        self.mailbox = start_dev_mailbox(folder, HOST, self.plan.smtp_port or 1025)

    def _start_web(self) -> None:
        """The reply app by import string, as `accord web` serves it (accord.cli and accord.web
        are independent layers); its factory reads the same settings from the environment and
        adds the /dev/mailbox pages when the dev mailbox is in use."""
        import uvicorn

        config = uvicorn.Config(
            "accord.web.app:create_app",
            factory=True,
            host=HOST,
            port=self.plan.web_port,
            server_header=False,
        )
        self.web = uvicorn.Server(config)
        self.web_thread = threading.Thread(target=self.web.run, name="reply-app", daemon=True)
        self.web_thread.start()
        wait_until(lambda: self.web.started, "the reply app", self.web_thread.is_alive)

    def _start_courier(self) -> None:
        self.courier = threading.Thread(
            target=_carry_mail,
            args=(self.plan.settings, self.plan.logs / "courier.log", self.courier_stop),
            name="courier",
            daemon=True,
        )
        self.courier.start()

    def wait_for_api(self) -> None:
        server = self.children[0] if self.plan.own_server else None
        wait_until(
            lambda: answers(f"{self.plan.prefect_api}/health"),
            f"the Prefect API at {self.plan.prefect_api}",
            server.alive if server else lambda: True,
        )


def _prefect_env(plan: Plan) -> dict[str, str]:
    """For the server, the serving process and the flow runs this process starts."""
    env = {"PREFECT_API_URL": plan.prefect_api, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    if plan.own_server:
        env["PREFECT_HOME"] = str(plan.prefect_home)
        env["PREFECT_RUNNER_POLL_FREQUENCY"] = os.environ.get("PREFECT_RUNNER_POLL_FREQUENCY", "5")
    return env


def _demo_data(ctx: Context, report: Path | None) -> Callable[[], None]:
    """Load the demo data now; return the step that starts the round once the server answers
    (a flow run, so it shows in the UI)."""
    from accord.services.demo import SAMPLE_REPORT, load_demo
    from flows.launch import quiet_console

    quiet_console()
    warm = threading.Thread(target=importlib.import_module, args=("flows.rounds",), daemon=True)
    warm.start()  # importing Prefect takes seconds: do it while the server starts
    demo = load_demo(ctx, report or SAMPLE_REPORT)
    typer.echo(
        f"demo: {len(demo.members)} members of the {demo.group}, statement {demo.statement_id}"
    )

    def start_round() -> None:
        if demo.has_round:
            typer.echo(f"demo: statement {demo.statement_id} was circulated already")
            return
        from flows.launch import run_flow

        result = run_flow(
            "flows.rounds:circulate_round",
            {
                "statement_id": demo.statement_id,
                "group": demo.group,
                "rule": demo.rule,
                "deadline": demo.deadline.isoformat(),
            },
        )
        typer.echo(f"demo: round {result['id']} started, {result['recipients']} invitations sent")

    return start_round


def _carry_mail(settings: Settings, log: Path, stopping: threading.Event) -> None:
    """Send waiting outbox mail every COURIER_EVERY_S until `stopping`; a failure is logged and
    tried again next time (the outbox keeps the mail), never the end of the thread."""
    from accord.services.context import Context
    from accord.services.delivery import deliver
    from accord.services.operations import pending_mail

    ctx = Context(settings)
    while not stopping.wait(COURIER_EVERY_S):
        try:
            if pending_mail(ctx):
                report = deliver(ctx)
                _log(log, f"sent {report.sent}, failed {report.failed}, later {report.retry_later}")
        except Exception as error:  # the database or SMTP is away: the next turn tries again
            _log(log, f"error: {type(error).__name__}: {error}")


def _log(log: Path, line: str) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")


def _demo_login(ctx: Context) -> tuple[str, str]:
    from accord.services.demo_account import demo_login

    login = demo_login(ctx)
    return login.email, login.password


def _print_urls(plan: Plan, took: float, login: tuple[str, str] | None = None) -> None:
    ui = plan.prefect_api.removesuffix("/api")
    web = f"http://{HOST}:{plan.web_port}"
    lines = [
        f"Prefect UI      {ui}",
        f"Prefect API     {plan.prefect_api}",
        f"reply app       {web}  (links in mail use {plan.settings.public_url})",
        f"console         {web}/console/",
    ]
    if login:
        lines.append(f"console login   {login[0]}  password {login[1]}")
    if plan.smtp_port:
        lines += [
            f"dev mailbox     {web}/dev/mailbox",
            f"SMTP            {HOST}:{plan.smtp_port}",
        ]
    lines += [
        f"logs            {plan.logs}",
        f"accord is up (started in {took:.0f} s); Ctrl-C stops everything.",
    ]
    typer.echo("\n".join(lines))
