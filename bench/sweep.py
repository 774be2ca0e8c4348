"""The sweep over a busy database: 1,000 open rounds (10 recipients each) and 10,000 actions.

Run: .venv/bin/python bench/sweep.py [--rounds 1000] [--actions 10000] [--repeat 3] [--db sqlite]
Goal (issue 8): `accord sweep` over 1,000 open rounds and 10,000 actions in under 5 s.

The data (bulk inserts, not measured) is what a sweep meets on a busy day: 5% of the rounds are
past their deadline (they close, and the secretariat gets each result), 5% are two days from it
(a first reminder is due to each silent recipient), the rest are quiet; 3% of the actions are
overdue and 2% are due within 14 days (their bodies' contacts are reminded). The clock is fixed
at noon, secretariat time (ACCORD_NOW), so action reminders are due whatever the hour.
Timed: the first `accord sweep` (all of that, mail delivered to an SMTP sink in its own process),
then a second one (nothing left to do, the every-5-minutes case); and, in this process, each part
of the sweep on its own (`sweep_rounds`, `remind_actions`, `deliver`) on a fresh copy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from _support import (
    ACCORD,
    STATEMENT,
    Sink,
    Store,
    add_members,
    fresh_store,
    load,
    machine,
    median,
    run_measured,
)

TZ = ZoneInfo("Europe/Paris")
RECIPIENTS = 10


def noon() -> datetime:
    return datetime.combine(date.today(), dtime(12, 0), TZ).astimezone(UTC)


def populate(store: Store, rounds: int, actions: int, now: datetime) -> dict[str, int]:
    """The busy day's data, inserted with one Core statement per table."""
    from sqlalchemy import select

    from storage import tables as t
    from storage.uow import Database

    add_members(store, RECIPIENTS, group="Sweep")
    sha = hashlib.sha256(STATEMENT.encode()).hexdigest()
    db = Database(store.url)
    due = {"closing": 0, "reminding": 0, "overdue": 0, "soon": 0}
    try:
        with db.uow() as uow:
            s = uow.session
            group_id = s.scalar(select(t.groups.c.id).where(t.groups.c.name == "Sweep"))
            members = list(s.scalars(select(t.members.c.id)))
            s.execute(
                t.statements.insert(),
                [
                    {
                        "id": n + 1,
                        "slug": f"statement-{n}",
                        "title": f"Statement {n}",
                        "kind": "awareness-day",
                        "political": False,
                        "state": "circulated",
                        "version": 1,
                    }
                    for n in range(rounds)
                ],
            )
            s.execute(
                t.statement_versions.insert(),
                [
                    {
                        "statement_id": n + 1,
                        "number": 1,
                        "body": STATEMENT,
                        "sha256": sha,
                        "created_at": now - timedelta(days=20),
                    }
                    for n in range(rounds)
                ],
            )
            round_rows = []
            for n in range(rounds):
                if n % 100 < 5:
                    deadline, due["closing"] = now - timedelta(hours=1), due["closing"] + 1
                elif n % 100 < 10:
                    deadline, due["reminding"] = now + timedelta(days=2), due["reminding"] + 1
                else:
                    deadline = now + timedelta(days=30)
                endorsed = sum(1 for m in members if (n + m) % 3 == 0)  # as the recipients below
                round_rows.append(
                    {
                        "id": n + 1,
                        "statement_id": n + 1,
                        "group_id": group_id,
                        "mode": "endorse",
                        "rule": "majority",
                        "deadline": deadline,
                        "text_sha256": sha,
                        "version_number": 1,
                        "state": "open",
                        "flagged_political": False,
                        "version": 1,
                        "tally_endorse": endorsed,
                        "tally_pending": len(members) - endorsed,
                    }
                )
            s.execute(t.rounds.insert(), round_rows)
            s.execute(
                t.recipients.insert(),
                [
                    {
                        "round_id": n + 1,
                        "member_id": m,
                        "reply_key": f"{n:016x}{m:016x}",
                        "reminders_sent": 0,
                        "asked_at": now - timedelta(days=20),
                        "decision": "endorse" if (n + m) % 3 == 0 else None,
                    }
                    for n in range(rounds)
                    for m in members
                ],
            )
            s.execute(
                t.meetings.insert(),
                [
                    {
                        "id": 1,
                        "body": "ICC Advisory Group",
                        "title": "Generated",
                        "name": "Generated",
                        "starts_on": date(2023, 7, 4),
                        "ends_on": date(2023, 7, 5),
                        "source_name": "generated.txt",
                        "source_sha256": sha,
                        "imported_at": now - timedelta(days=90),
                    }
                ],
            )
            objectives = (actions + 99) // 100
            s.execute(
                t.objectives.insert(),
                [
                    {"id": o + 1, "meeting_id": 1, "number": o + 1, "title": f"Objective {o + 1}"}
                    for o in range(objectives)
                ],
            )
            s.execute(
                t.bodies.insert(),
                [
                    {"id": b + 1, "name": f"Body {b}", "contact_emails": [f"body{b}@example.org"]}
                    for b in range(40)
                ],
            )
            action_rows = []
            today = now.astimezone(TZ).date()
            for n in range(actions):
                if n % 100 < 3:
                    due_on, due["overdue"] = today - timedelta(days=10 + n % 30), due["overdue"] + 1
                elif n % 100 < 5:
                    due_on, due["soon"] = today + timedelta(days=2 + n % 12), due["soon"] + 1
                else:
                    due_on = today + timedelta(days=60 + n % 300)
                action_rows.append(
                    {
                        "id": n + 1,
                        "meeting_id": 1,
                        "objective_id": n // 100 + 1,
                        "position": n % 100 + 1,
                        "text": f"Action {n}: do the agreed thing.",
                        "state": ("proposed", "assessed", "in_progress")[n % 3],
                        "assessment": "accepted" if n % 3 else None,
                        "timeframe_raw": f"{due_on:%B %Y}",
                        "start_on": None,
                        "end_on": due_on,
                        "due_on": due_on,
                        "precision": "month",
                        "tentative": False,
                        "ongoing": False,
                        "unparsed": False,
                        "milestones": [],
                        "occurrence": 1,
                        "version": 1,
                    }
                )
            s.execute(t.actions.insert(), action_rows)
            s.execute(
                t.action_bodies.insert(),
                [
                    {"action_id": n + 1, "body_id": b + 1, "role": role, "position": p}
                    for n in range(actions)
                    for p, (b, role) in enumerate(
                        [(n % 40, "lead")] + ([((n + 7) % 40, "support")] if n % 2 else []),
                        start=1,
                    )
                ],
            )
            uow.commit()
    finally:
        db.dispose()
    return due


def parts(store: Store, now: datetime, sink: Sink) -> dict[str, float]:
    """Each part of the sweep on its own, in this process (modules already imported). The action
    reminders come last and stay in the outbox: `deliver` here sends the rounds' mail."""
    from accord.services.delivery import deliver
    from accord.services.round_reminders import sweep_rounds

    ctx = store.context(now=now, smtp_host="127.0.0.1", smtp_port=sink.port)
    ctx.db.engine.connect().close()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    result = vars(sweep_rounds(ctx)).copy()
    timings["sweep_rounds"] = time.perf_counter() - start
    start = time.perf_counter()
    mail = deliver(ctx)
    timings["deliver"] = time.perf_counter() - start
    try:
        from accord.services.reminders import remind_actions
    except ImportError:  # pragma: no cover - before action reminders existed
        remind_actions = None
    if remind_actions is not None:
        start = time.perf_counter()
        reminded = remind_actions(ctx)
        timings["remind_actions"] = time.perf_counter() - start
        result["action_reminders"] = reminded.action_reminders
    timings["mail"] = mail.sent
    timings["closed"] = result["closed"]
    timings["reminders"] = result["reminders"]
    timings["action_reminders"] = result.get("action_reminders", 0)
    ctx.db.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    now = noon()
    print(machine())
    first, second, part_runs, results = [], [], [], []
    first_cpu, second_cpu = [], []
    with Sink() as sink:
        for _ in range(args.repeat):
            with fresh_store(args.db) as store:
                due = populate(store, args.rounds, args.actions, now)
                env = {
                    **store.env,
                    "ACCORD_NOW": now.isoformat(),
                    "ACCORD_SMTP_HOST": "127.0.0.1",
                    "ACCORD_SMTP_PORT": str(sink.port),
                }
                run = run_measured([ACCORD, "sweep", "--json"], env)
                first.append(run.seconds)
                first_cpu.append(run.cpu)
                results.append(json.loads(run.stdout))
                again = run_measured([ACCORD, "sweep", "--json"], env)
                second.append(again.seconds)
                second_cpu.append(again.cpu)
            with fresh_store(args.db) as store:
                populate(store, args.rounds, args.actions, now)
                part_runs.append(parts(store, now, sink))
    print(
        f"data: {args.rounds} open rounds x {RECIPIENTS} recipients ({due['closing']} past the "
        f"deadline, {due['reminding']} with a reminder due), {args.actions} actions "
        f"({due['overdue']} overdue, {due['soon']} due within 14 days); {args.db}"
    )
    print(f"first sweep result: {results[0]}")
    verdict = "met" if median(first) < 5 else "MISSED"
    print(
        f"accord sweep (first)   median {median(first):6.2f} s  min {min(first):6.2f}  "
        f"max {max(first):6.2f}  CPU median {median(first_cpu):5.2f} s  goal < 5 s: {verdict}"
    )
    print(
        f"accord sweep (again)   median {median(second):6.2f} s  min {min(second):6.2f}  "
        f"max {max(second):6.2f}  CPU median {median(second_cpu):5.2f} s"
    )
    for key in ("sweep_rounds", "remind_actions", "deliver"):
        values = [p[key] for p in part_runs if key in p]
        if values:
            print(f"  in process: {key:<15} median {median(values):6.2f} s")
    p = part_runs[0]
    print(
        f"  (closed {p['closed']:.0f}, round reminders {p['reminders']:.0f}, action reminders "
        f"{p['action_reminders']:.0f}, mail sent {p['mail']:.0f}); {load()}"
    )


if __name__ == "__main__":
    main()
