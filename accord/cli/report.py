"""`accord report ...`"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import typer

from accord.cli.common import context, fail, print_json

app = typer.Typer(
    help="Meeting reports: import them, render the follow-up report.", no_args_is_help=True
)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date like 2016-09-29, not '{value}'")


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="The meeting report: .txt, .md, .docx or .pdf."),
    json_: bool = typer.Option(False, "--json", help="Print the meeting and its actions as JSON."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change; change nothing."
    ),
    partial: bool = typer.Option(
        False, "--partial", help="Import the readable rows when some are not (they are listed)."
    ),
    update: bool = typer.Option(
        False, "--update", help="Apply a corrected report's differences to the imported actions."
    ),
    meeting_date: str = typer.Option(
        None, "--meeting-date", help="The meeting's date (YYYY-MM-DD), when the report lacks it."
    ),
    next_meeting: str = typer.Option(
        None, "--next-meeting", help="The next meeting's date (YYYY-MM-DD)."
    ),
) -> None:
    """Import a meeting report: meeting, objectives, participants, bodies and agreed actions.

    Importing the same report again changes nothing, and a corrected one shows what differs
    (`--update` applies it). A row that cannot be read as an action stops the import unless
    `--partial`. A flow run when a Prefect server is configured (PREFECT_API_URL), else done here.
    """
    from accord.services.reports import ImportOptions, import_report
    from accord.services.results import plain
    from flows.launch import run_flow_or_direct

    options = ImportOptions(
        dry_run=dry_run,
        partial=partial,
        update=update,
        meeting_date=_day(meeting_date, "--meeting-date"),
        next_meeting=_day(next_meeting, "--next-meeting"),
    )
    ctx = context()
    result = run_flow_or_direct(
        "flows.reports:import_report",
        {"path": str(file.absolute()), **_flow_options(options)},
        lambda: plain(import_report(ctx, file, options)),
    )
    if json_:
        print_json(result)
        return
    _summary(result)


def _flow_options(options: Any) -> dict[str, Any]:
    given = {
        "dry_run": options.dry_run,
        "partial": options.partial,
        "update": options.update,
        "meeting_date": options.meeting_date.isoformat() if options.meeting_date else None,
        "next_meeting": options.next_meeting.isoformat() if options.next_meeting else None,
    }
    return {name: value for name, value in given.items() if value}


def _summary(result: dict[str, Any]) -> None:
    meeting = result["meeting"]
    preview = "would import" if result["dry_run"] else "imported"
    if result["already_imported"]:
        _differences(result)
    else:
        typer.echo(
            f"{preview} meeting {meeting['id']} '{meeting['title']}' of {meeting['date']}: "
            f"{len(result['objectives'])} objectives, {len(result['actions'])} actions, "
            f"{len(result['participants'])} participants"
        )
        unread = [a["id"] for a in result["actions"] if a["timeframe"]["unparsed"]]
        if unread:
            typer.echo(
                f"{len(unread)} timeframe(s) kept as text, not read as dates: "
                f"actions {', '.join(map(str, unread))}"
            )
        if result["dry_run"]:
            for action in result["actions"]:
                typer.echo(_preview_line(action))
    for line in result["skipped"]:
        typer.echo(f"not imported: {line}")
    if result["dry_run"]:
        typer.echo("dry run: nothing was changed")


def _preview_line(action: dict[str, Any]) -> str:
    due = action["timeframe"]["due"] or ("unread" if action["timeframe"]["unparsed"] else "-")
    bodies = ", ".join(r["name"] for r in action["responsible"])
    text = action["text"] if len(action["text"]) <= 60 else action["text"][:59] + "…"
    return (
        f"  O{action['objective']['number']}  {due:<10}  {action['state']:<11} {text}  [{bodies}]"
    )


def _differences(result: dict[str, Any]) -> None:
    meeting, differences = result["meeting"], result["differences"]
    line = f"already imported: meeting {meeting['id']} '{meeting['title']}'"
    if not differences:
        typer.echo(line)
        return
    if result["updated"]:
        verb = "applied"
    elif any(difference["applied"] for difference in differences):
        verb = "to be applied by --update"
    else:
        verb = "not applied (--update applies them)"
    typer.echo(f"{line}; {len(differences)} difference(s) with this file, {verb}:")
    for difference in differences:
        typer.echo("  " + _difference_line(difference))


def _difference_line(difference: dict[str, Any]) -> str:
    kind, changes = difference["kind"], difference["changes"]
    if kind == "added":
        what = f"new action: {changes['text'][1]}"
    elif kind == "removed":
        what = f"action {difference['action_id']} is no longer in the report (left as it is)"
    else:
        said = "; ".join(
            f"{name}: '{_text(old)}' → '{_text(new)}'" for name, (old, new) in changes.items()
        )
        what = f"action {difference['action_id']} ({difference['state']}): {said}"
    applied = {"noted": " [started: kept its state, noted]", "updated": " [updated]"}
    return what + applied.get(difference["applied"] or "", "")


def _text(value: Any) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


@app.command()
def followup(
    fmt: str = typer.Option("md", "--format", help="md, html or docx."),
    output: Path = typer.Option(None, "--output", help="Write here (docx needs it)."),
    meeting: int = typer.Option(None, "--meeting", help="Meeting id (default: the latest)."),
) -> None:
    """The follow-up report: each meeting action by objective, with its state; overdue marked."""
    from accord.services.reports import followup_report

    text = followup_report(context(), fmt=fmt, output=output, meeting_id=meeting)
    if text is not None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"wrote {output}")
