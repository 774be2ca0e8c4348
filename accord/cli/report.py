"""`accord report ...`"""

from __future__ import annotations

from pathlib import Path

import typer

from accord.cli.common import context, print_json

app = typer.Typer(
    help="Meeting reports: import them, render the follow-up report.", no_args_is_help=True
)


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="The meeting report: .txt, .md or .docx."),
    json_: bool = typer.Option(False, "--json", help="Print the meeting and its actions as JSON."),
) -> None:
    """Import a meeting report: meeting, objectives, participants, bodies and agreed actions.

    Importing the same report again changes nothing. A flow run when a Prefect server is
    configured (PREFECT_API_URL), else done here.
    """
    from accord.services.reports import import_report
    from flows.launch import run_flow_or_direct

    ctx = context()
    result = run_flow_or_direct(
        "flows.reports:import_report",
        {"path": str(file.absolute())},
        lambda: import_report(ctx, file).as_dict(),
    )
    if json_:
        print_json(result)
        return
    meeting = result["meeting"]
    if result["already_imported"]:
        typer.echo(f"already imported: meeting {meeting['id']} '{meeting['title']}'")
        return
    typer.echo(
        f"imported meeting {meeting['id']} '{meeting['title']}' of {meeting['date']}: "
        f"{len(result['objectives'])} objectives, {len(result['actions'])} actions, "
        f"{len(result['participants'])} participants"
    )
    unread = [a["id"] for a in result["actions"] if a["timeframe"]["unparsed"]]
    if unread:
        typer.echo(
            f"{len(unread)} timeframe(s) kept as text, not read as dates: "
            f"actions {', '.join(map(str, unread))}"
        )


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
