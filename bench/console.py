"""Server time of the console's pages, side by side with the trivial endpoint, and the number of
SQL statements each page runs at two sizes (a count that grows with the rows is an N+1).

Run: .venv/bin/python bench/console.py [--db sqlite|postgresql] [--repeat 15]
Goal (issue 19): each page under 10x the trivial endpoint's time; no statement count that grows
with the number of rows shown. Pages: the dashboard, a round of 5,000 recipients, the actions
board of 2,000 actions, the decision record with 100,000 entries (and the same pages at a tenth
of those sizes, for the statement counts).

Each request goes through the whole ASGI app in this process (Starlette's TestClient: routing,
middleware, the session check, templates), so the figures are server time without the network.
The trivial endpoint is bench/trivial_app.py's GET, through its own TestClient.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _support import Store, add_members, draft, fresh_store, load, machine, median
from fastapi.testclient import TestClient
from imports import generated_report
from sqlalchemy import Engine, event

PASSWORD = "bench password 2026"
EMAIL = "bench@example.org"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
STATEMENTS = {"count": 0}


def count_statements(*_args: Any) -> None:
    STATEMENTS["count"] += 1


def populate(store: Store, recipients: int, actions: int, entries: int) -> int:
    """Members and a round to them, a report of `actions` actions, the record grown to
    `entries`; the round's id."""
    from accord.services.reports import import_report
    from accord.services.rounds import start_round
    from accord.services.users import add_user

    add_members(store, recipients)
    statement = draft(store)
    ctx = store.context()
    try:
        add_user(ctx, EMAIL, name="Bench", role="secretariat", password=PASSWORD)
        report = Path(tempfile.mkdtemp()) / "generated.txt"
        report.write_text(generated_report(actions), encoding="utf-8")
        import_report(ctx, report)
        deadline = datetime.now(UTC) + timedelta(days=10)
        started = start_round(
            ctx, statement_id=statement, group="Bench", rule="majority", deadline=deadline
        )
        grow_record(ctx, entries)
        return started.id
    finally:
        ctx.db.dispose()


def grow_record(ctx: Any, entries: int) -> None:
    """Append entries to the decision record until it holds `entries` (a valid chain)."""
    from storage.audit import next_entry
    from storage.tables import audit_head, audit_log

    with ctx.uow() as uow:
        head = uow.session.execute(audit_head.select()).one()
        seq, prev = int(head.seq), str(head.hash)
        now = datetime.now(UTC)
        rows = []
        for _ in range(entries - seq):
            entry = next_entry(
                seq,
                prev,
                actor="bench@example.org",
                channel="cli",
                entity_type="bench",
                entity_id=seq,
                action="note",
                at=now,
                payload={"n": seq},
            )
            rows.append(vars(entry))
            seq, prev = entry.seq, entry.hash
        for start in range(0, len(rows), 10_000):
            uow.session.execute(audit_log.insert(), rows[start : start + 10_000])
        uow.session.execute(audit_head.update().values(seq=seq, hash=prev))
        uow.commit()


def logged_in(store: Store) -> TestClient:
    from accord.config import load_settings
    from accord.web.app import create_app

    settings = load_settings(home=store.home, database_url=store.url)
    client = TestClient(create_app(settings))
    client.__enter__()
    token = TOKEN.search(client.get("/console/login").text)
    assert token
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/console/login", data=form, follow_redirects=False).status_code == 303
    return client


Timing = tuple[float, float]  # median seconds of wall clock, and of this process's CPU


def medians(client: TestClient, path: str, repeat: int) -> Timing:
    """Wall clock and CPU time (every thread of this process: the app runs here) of GET `path`.
    The CPU time moves less with the machine's load than the wall clock does."""
    wall, cpu = [], []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        client.get(path)
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return median(wall), median(cpu)


def timed(client: TestClient, path: str, repeat: int) -> tuple[Timing, int]:
    """The timing of GET `path`, and the SQL statements one GET runs."""
    assert client.get(path).status_code == 200, path  # warm: templates compiled, caches filled
    STATEMENTS["count"] = 0
    client.get(path)
    statements = STATEMENTS["count"]
    return medians(client, path, repeat), statements


def trivial(repeat: int) -> Timing:
    from trivial_app import app

    with TestClient(app) as client:
        client.get("/r/token")
        return medians(client, "/r/token", repeat)


def pages(round_id: int) -> dict[str, str]:
    return {
        "dashboard": "/console/",
        "round page": f"/console/rounds/{round_id}",
        "round filtered": f"/console/rounds/{round_id}?answer=none&delivery=queued&page=2",
        "round mail": f"/console/rounds/{round_id}/mail",  # htmx loads it after the page
        "actions board": "/console/actions",
        "record page": "/console/record",
    }


def measure(backend: str, scale: float, repeat: int) -> dict[str, tuple[Timing, int]]:
    with fresh_store(backend) as store:
        round_id = populate(store, int(5000 * scale), int(2000 * scale), int(100_000 * scale))
        client = logged_in(store)
        try:
            return {name: timed(client, path, repeat) for name, path in pages(round_id).items()}
        finally:
            client.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(machine())
    print(load())
    event.listen(Engine, "before_cursor_execute", count_statements)
    small = measure(args.db, 0.1, 3)
    full = measure(args.db, 1.0, args.repeat)
    base, base_cpu = trivial(args.repeat * 4)
    print(f"trivial endpoint: {base * 1000:.2f} ms, {base_cpu * 1000:.2f} ms CPU")
    print(
        f"{'page':<15} {'ms':>8} {'x trivial':>10} {'goal <10':>9} {'CPU x':>6} "
        f"{'SQL 1/10':>9} {'SQL full':>9}"
    )
    for name, ((seconds, cpu), statements) in full.items():
        ratio = seconds / base
        grows = "GROWS" if statements > small[name][1] else ""
        verdict = "met" if ratio < 10 else "missed"
        print(
            f"{name:<15} {seconds * 1000:>8.1f} {ratio:>10.1f} {verdict:>9} "
            f"{cpu / base_cpu:>6.1f} {small[name][1]:>9} {statements:>9} {grows}"
        )
    print(load())


if __name__ == "__main__":
    main()
