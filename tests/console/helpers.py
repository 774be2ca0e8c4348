"""The console over real HTTP: users made through the services, a client that logs in and sends
forms with their CSRF token, and a snapshot of every table to prove a refusal changed nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from accord.services.context import Context
from accord.services.users import add_user

PASSWORD = "correct horse battery"
SECRETARIAT = "sam@example.org"
VIEWER = "vic@example.org"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_users(ctx: Context) -> None:
    add_user(ctx, SECRETARIAT, name="Sam Secretariat", role="secretariat", password=PASSWORD)
    add_user(ctx, VIEWER, name="Vic Viewer", role="viewer", password=PASSWORD)


@dataclass
class Console:
    """A browser-like client of the console at `base`."""

    base: str
    http: httpx.Client

    @classmethod
    def at(cls, base: str, **headers: str) -> Console:
        return cls(base, httpx.Client(base_url=base, timeout=10, headers=headers))

    def token(self, path: str = "/console/login") -> str:
        page = self.http.get(path)
        found = TOKEN.search(page.text)
        assert found, page.text
        return found.group(1)

    def log_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        token = self.token()
        form = {"email": email, "password": password, "csrf_token": token}
        return self.http.post("/console/login", data=form)

    def post(
        self, path: str, form: dict[str, Any] | None = None, page: str = "/console/"
    ) -> httpx.Response:
        """A form POST carrying the token of `page` (as a browser sends it)."""
        return self.http.post(path, data={**(form or {}), "csrf_token": self.token(page)})


def snapshot(ctx: Context) -> dict[str, list[Any]]:
    """Every row of every table but the sessions and failed logins (they are not the work)."""
    from sqlalchemy import select

    from storage.tables import metadata

    skip = {"console_sessions", "login_failures"}
    with ctx.uow(readonly=True) as uow:
        return {
            table.name: [tuple(row) for row in uow.session.execute(select(table))]
            for table in metadata.sorted_tables
            if table.name not in skip
        }


def finished_job(console: Console, location: str, timeout: float = 60.0) -> str:
    """The job page at `location` once its job has ended (asked as htmx asks, then in full)."""
    import time

    job_id = location.rsplit("/", 1)[1]
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        fragment = console.http.get(f"/console/fragments/jobs/{job_id}").text
        if "hx-trigger" not in fragment:
            return console.http.get(location).text
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not end in {timeout} s")
