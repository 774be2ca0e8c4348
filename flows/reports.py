"""Flows for follow-up actions: import a meeting report, remind responsible bodies, render the
follow-up report."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from accord.services.actions import ActionView, list_actions
from accord.services.context import Context
from accord.services.operations import has_meetings
from accord.services.reminders import ReminderResult, remind_actions
from accord.services.reports import ImportOptions, ImportResult
from accord.services.reports import followup_report as followup_service
from accord.services.reports import import_report as import_service
from accord.services.results import plain
from flows.artifacts import rows_table
from flows.events import announce_transitions
from flows.mail import deliver_outbox
from flows.support import accord_context, blocking, label_run, slug


@task(name="import-report", cache_policy=NO_CACHE)
async def import_report_task(ctx: Context, path: str, options: ImportOptions) -> ImportResult:
    """Read the report and store meeting, objectives, people, bodies and actions (one unit of
    work; importing the same report again finds it and changes nothing)."""
    return await blocking(import_service, ctx, Path(path), options)


@flow(name="import-report")
async def import_report(
    path: str,
    dry_run: bool = False,
    partial: bool = False,
    update: bool = False,
    meeting_date: date | None = None,
    next_meeting: date | None = None,
) -> dict[str, Any]:
    """Import a meeting report (.txt, .md, .docx or .pdf) from a path on the machine running the
    flow; the options are `accord report import`'s."""
    options = ImportOptions(dry_run, partial, update, meeting_date, next_meeting)
    async with accord_context() as ctx:
        await label_run(f"import/{slug(Path(path).stem)}", ["report"])
        result = await import_report_task(quote(ctx), path, options)
        await announce_transitions(ctx)
        meeting = result.meeting
        await rows_table(
            f"meeting-{meeting.id}-actions",
            [_followup_row(a) for a in result.actions],
            f"Actions agreed at {meeting.title} ({meeting.date})",
        )
        return dict(plain(result))


@task(name="remind-actions", cache_policy=NO_CACHE)
async def remind_actions_task(ctx: Context) -> ReminderResult:
    """Write the due action reminders and the week's digest to the outbox."""
    return await blocking(remind_actions, ctx)


@flow(name="action-reminders")
async def action_reminders() -> dict[str, Any]:
    """Remind each responsible body's contacts 14 and 3 days before an action is due and once
    it is overdue; on the first run of a week, send the secretariat its digest."""
    async with accord_context(actor="accord") as ctx:
        day = ctx.now().astimezone(ctx.settings.tz).date()
        await label_run(f"action-reminders/{day.isoformat()}", ["actions"])
        result = await remind_actions_task(quote(ctx))
        mail = await deliver_outbox(ctx, progress_key="action-reminders-delivery")
        await rows_table(
            "action-reminders",
            [
                {k: r[k] for k in ("action_id", "body", "role", "stage", "due", "text")}
                for r in result.rows
            ],
            f"Action reminders written on {day.isoformat()}",
        )
        return {**plain(result), "mail": mail}


@task(name="render-followup", cache_policy=NO_CACHE)
async def render_followup_task(ctx: Context, fmt: str, output: str) -> str:
    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    await blocking(followup_service, ctx, fmt=fmt, output=target)
    return str(target)


@flow(name="followup-report")
async def followup_report(fmt: str = "md", output: str | None = None) -> dict[str, Any]:
    """Render the follow-up report of the latest meeting as of today (by default into
    ACCORD_HOME/reports/followup-DATE.FMT) and show its table as an artifact."""
    async with accord_context(actor="accord") as ctx:
        day = ctx.now().astimezone(ctx.settings.tz).date()
        await label_run(f"followup/{day.isoformat()}", ["actions"])
        if not await blocking(has_meetings, ctx):
            get_run_logger().info("no meeting report imported yet: nothing to follow up")
            return {"path": None, "actions": 0}
        target = output or str(_default_output(ctx, day, fmt))
        written = await render_followup_task(quote(ctx), fmt, target)
        actions = await blocking(list_actions, ctx)
        await rows_table(
            "followup-table",
            [_followup_row(a) for a in actions],
            f"Follow-up of the agreed actions on {day.isoformat()}",
        )
        return {"path": written, "actions": len(actions)}


def _default_output(ctx: Context, day: date, fmt: str) -> Path:
    return ctx.settings.home / "reports" / f"followup-{day.isoformat()}.{fmt}"


def _followup_row(action: ActionView) -> dict[str, Any]:
    state = action.state + (" (overdue)" if action.overdue else "")
    return {
        "id": action.id,
        "objective": action.objective.number,
        "action": action.text,
        "responsible": ", ".join(
            r.name + (" (support)" if r.role == "support" else "") for r in action.responsible
        ),
        "timeframe": action.timeframe.raw,
        "due": action.timeframe.due,
        "state": state,
    }
