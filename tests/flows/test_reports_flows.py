"""Report import, action reminders, the follow-up report and polling, as flows."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, update

from accord.services.context import Context
from storage import tables as t
from tests.conftest import SAMPLE_REPORT
from tests.flows import api
from tests.flows.conftest import accord_events
from tests.flows.test_rounds_flows import run_flow

BRADFORD = "contact@bradford.example.org"


def import_sample() -> dict:
    from flows.reports import import_report

    state = run_flow(import_report, path=str(SAMPLE_REPORT))
    return {"state": state, "result": state.result()}


def bradford_contact(ctx: Context) -> None:
    with ctx.uow() as uow:
        uow.session.execute(
            update(t.bodies).where(t.bodies.c.name == "Bradford").values(contact_emails=[BRADFORD])
        )
        uow.commit()


def outbox(ctx: Context, purpose: str) -> list:
    with ctx.uow(readonly=True) as uow:
        query = select(t.outbox).where(t.outbox.c.purpose == purpose).order_by(t.outbox.c.id)
        return list(uow.session.execute(query))


def test_import_report_flow_reports_the_actions(ctx, flow_env, events) -> None:
    imported = import_sample()
    run_id = imported["state"].state_details.flow_run_id
    assert api.flow_run(run_id).name == "import/icc-advisory-group-2023-07"
    actions = imported["result"]["actions"]
    table = json.loads(api.artifacts(run_id)["meeting-1-actions"].data)
    assert len(table) == len(actions) > 0
    assert {"id", "objective", "action", "responsible", "due", "state"} <= set(table[0])
    assert "accord.meeting.imported" in [e.event for e in accord_events(events)]


def test_action_reminders_go_to_the_bodies_and_the_digest_to_the_secretariat(
    ctx, flow_env, smtp_sink
) -> None:
    from flows.reports import action_reminders

    import_sample()
    bradford_contact(ctx)
    state = run_flow(action_reminders)
    reminders = outbox(ctx, "action_reminder")
    assert reminders and {r.to_addr for r in reminders} == {BRADFORD}
    assert {r.data["stage"] for r in reminders} <= {"14-days", "3-days", "overdue"}
    [digest] = outbox(ctx, "action_digest")
    assert digest.to_addr == "secretariat@localhost" and digest.data["week"] == "2023-W39"
    assert state.result()["mail"]["sent"] == len(reminders) + 1
    assert {tuple(to) for to, _ in smtp_sink.messages} == {(BRADFORD,), ("secretariat@localhost",)}
    again = run_flow(action_reminders)
    assert again.result()["action_reminders"] == 0 and again.result()["action_digests"] == 0
    table = api.artifacts(state.state_details.flow_run_id)["action-reminders"]
    assert BRADFORD not in table.data and "Bradford" in table.data


def test_action_reminders_wait_for_the_morning(ctx, flow_env, monkeypatch) -> None:
    from flows.reports import action_reminders

    import_sample()
    bradford_contact(ctx)
    monkeypatch.setenv("ACCORD_NOW", "2023-10-02T07:59")  # secretariat time
    assert run_flow(action_reminders).result()["action_reminders"] == 0
    assert outbox(ctx, "action_reminder") == []


def test_followup_report_is_written_and_tabled(ctx, flow_env, home: Path) -> None:
    from flows.reports import followup_report

    import_sample()
    state = run_flow(followup_report)
    written = Path(state.result()["path"])
    assert written == home / "reports" / "followup-2023-10-01.md" and written.stat().st_size
    run_id = state.state_details.flow_run_id
    assert api.flow_run(run_id).name == "followup/2023-10-01"
    rows = json.loads(api.artifacts(run_id)["followup-table"].data)
    assert len(rows) == state.result()["actions"]


def test_followup_report_waits_for_a_first_report(flow_env) -> None:
    from flows.reports import followup_report

    assert run_flow(followup_report).result() == {"path": None, "actions": 0}


def test_poll_replies_is_idle_without_imap(flow_env) -> None:
    from flows.replies import poll_replies

    assert run_flow(poll_replies).result() == {"polled": False}
