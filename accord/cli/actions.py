"""`accord actions ...`"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from accord.cli.common import context, fail, print_json

if TYPE_CHECKING:
    from accord.services.actions import ActionView

app = typer.Typer(help="Follow-up actions agreed at meetings.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")
ACTION_ID = typer.Argument(..., metavar="ID", help="The action's id (see `accord actions list`).")
NOTE = typer.Option(None, "--note", help="A note on progress; it becomes the action's last note.")
REASON = typer.Option(None, "--reason", help="Why (required).")


def _line(action: ActionView) -> str:
    due = action.timeframe.due or ("ongoing" if action.timeframe.ongoing else "-")
    mark = " OVERDUE" if action.overdue else ""
    bodies = ", ".join(
        r.name + (" (support)" if r.role == "support" else "") for r in action.responsible
    )
    text = action.text if len(action.text) <= 60 else action.text[:59] + "…"
    return (
        f"{action.id:>5}  {action.state:<11} {due:<10}{mark:<8}  "
        f"O{action.objective.number}  {text}  [{bodies}]"
    )


@app.command("list")
def list_(
    state: str = typer.Option(None, "--state", help="proposed, assessed, in_progress, done..."),
    overdue: bool = typer.Option(False, "--overdue", help="Only actions past their due date."),
    body: str = typer.Option(None, "--body", help="Only actions of this body (name or alias)."),
    objective: int = typer.Option(None, "--objective", help="Only this objective's number."),
    meeting: int = typer.Option(None, "--meeting", help="Only this meeting's actions."),
    json_: bool = JSON,
) -> None:
    """List actions, filtered by state, overdue, body, objective or meeting."""
    from accord.services.actions import list_actions

    found = list_actions(
        context(),
        state=state,
        overdue=overdue,
        body=body,
        objective=objective,
        meeting_id=meeting,
    )
    if json_:
        print_json(found)
        return
    for action in found:
        typer.echo(_line(action))
    typer.echo(f"{len(found)} action(s)")


@app.command()
def show(action_id: int = ACTION_ID, json_: bool = JSON) -> None:
    """Show an action: timeframe, bodies, state and its history in the decision record."""
    from accord.services.actions import show_action

    action = show_action(context(), action_id)
    if json_:
        print_json(action)
        return
    timeframe = action.timeframe
    typer.echo(_line(action))
    typer.echo(f"  objective {action.objective.number}: {action.objective.title}")
    typer.echo(f"  text: {action.text}")
    typer.echo(
        f"  timeframe: {timeframe.raw} (start {timeframe.start}, due {timeframe.due}, "
        f"precision {timeframe.precision})"
    )
    for milestone in timeframe.milestones:
        typer.echo(f"    milestone {milestone.due}: {milestone.text}")
    details = {
        "recurrence": timeframe.recurrence,
        "assessment": action.assessment,
        "last note": action.last_note,
        "drop reason": action.drop_reason,
    }
    for label, value in details.items():
        if value:
            typer.echo(f"  {label}: {value}")
    for entry in action.history:
        typer.echo(f"  {entry.at}  {entry.actor} ({entry.channel}): {entry.action}")


@app.command()
def calendar(
    body: str = typer.Option(None, "--body", help="Only this body's actions (name or alias)."),
    output: Path = typer.Option(None, "--output", help="Write the calendar here (FILE.ics)."),
    feed_url: bool = typer.Option(
        False, "--feed-url", help="Print the body's subscription URL (needs --body)."
    ),
) -> None:
    """The dated actions as an iCalendar file: one event on each due date, with a link back.

    With --body, also the secret URL where the reply app serves the same calendar as a feed that
    Outlook or Google Calendar can subscribe to.
    """
    from accord.services.calendar import actions_calendar
    from accord.services.calendar import feed_url as secret_url

    if feed_url and not body:
        fail("--feed-url needs --body NAME: each body has its own feed")
    if output is None and not feed_url:
        fail("give --output FILE.ics (or --feed-url with --body)")
    ctx = context()
    if output is not None:
        ics, events = actions_calendar(ctx, body=body)
        try:
            output.write_bytes(ics)
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
        typer.echo(f"wrote {events} event(s) to {output}")
    if body:
        typer.echo(f"feed for calendar applications: {secret_url(ctx, body)}")


def _move(action_id: int, trigger: str, **given: str | None) -> None:
    from accord.services.actions import move_action

    action = move_action(context(), action_id, trigger, **given)
    typer.echo(f"action {action.id}: {action.state}")
    following = action.next_occurrence
    if following:
        typer.echo(
            f"opened occurrence {following.occurrence} as action {following.id} "
            f"(due {following.timeframe.due or '-'})"
        )


@app.command()
def assess(
    action_id: int = ACTION_ID,
    outcome: str = typer.Option(None, "--outcome", help="accepted or under_consideration."),
    note: str = NOTE,
) -> None:
    """Record the assessment of an action: accepted, or under consideration."""
    _move(action_id, "assess", outcome=outcome, note=note)


@app.command()
def start(action_id: int = ACTION_ID, note: str = NOTE) -> None:
    """Start an action assessed as accepted."""
    _move(action_id, "start", note=note)


@app.command()
def complete(action_id: int = ACTION_ID, note: str = NOTE) -> None:
    """Complete an action in progress; a recurring one opens its next occurrence."""
    _move(action_id, "complete", note=note)


@app.command()
def reopen(action_id: int = ACTION_ID, note: str = NOTE) -> None:
    """Reopen a completed action (back in progress)."""
    _move(action_id, "reopen", note=note)


@app.command()
def drop(action_id: int = ACTION_ID, reason: str = REASON) -> None:
    """Drop an action that will not be done, with the reason."""
    _move(action_id, "drop", reason=reason)


@app.command()
def reject(action_id: int = ACTION_ID, reason: str = REASON) -> None:
    """Reject a proposed or assessed action, with the reason."""
    _move(action_id, "reject", reason=reason)


@app.command()
def edit(
    action_id: int = ACTION_ID,
    timeframe: str = typer.Option(..., "--timeframe", help="The new timeframe text."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what it reads as; change nothing."),
    json_: bool = JSON,
) -> None:
    """Change an action's timeframe text: read again as the report import reads it (due date,
    precision, tentative), stored and recorded; text with no date is refused."""
    from accord.services.action_timeframes import edit_timeframe

    edit = edit_timeframe(context(), action_id, timeframe, preview=dry_run)
    if json_:
        print_json(edit)
        return
    read = edit.timeframe
    flags = ", tentative" if read.tentative else ""
    flags += ", ongoing" if read.ongoing else ""
    typer.echo(f"action {edit.id}: '{read.raw}' reads as due {read.due or '-'}")
    typer.echo(f"  precision {read.precision or '-'}{flags}; was due {edit.previous.due or '-'}")
    typer.echo("  saved" if edit.saved else "  not saved (--dry-run, or the same text)")
