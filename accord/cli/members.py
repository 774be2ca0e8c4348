"""`accord members ...`"""

from __future__ import annotations

from pathlib import Path

import typer

from accord.cli.common import context, print_json

app = typer.Typer(
    help="Members of the groups that are asked to endorse statements.", no_args_is_help=True
)


MAX_CHANGES_SHOWN = 100


@app.command("import")
def import_(
    file: Path = typer.Argument(
        ...,
        help="CSV with columns name,email,organisation,groups,"
        "language,timezone (groups separated by ';').",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print what would change; write nothing."
    ),
    json_: bool = typer.Option(False, "--json", help="Print the counts and changes as JSON."),
) -> None:
    """Import or update members (matched by email). Any bad row: nothing is imported. A column
    the file does not have is left as it is; a present column with an empty cell clears it."""
    from accord.services.members import import_members

    result = import_members(context(), file, dry_run=dry_run)
    if json_:
        print_json({**result.details(), "dry_run": dry_run})
        return
    for change in result.changes[:MAX_CHANGES_SHOWN]:
        typer.echo(change.describe(done=not dry_run))
    if len(result.changes) > MAX_CHANGES_SHOWN:
        more = len(result.changes) - MAX_CHANGES_SHOWN
        typer.echo(f"… and {more} more (--json lists every change)")
    counts = result.as_dict()
    summary = (
        f"{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged"
    )
    typer.echo(f"dry run: {summary}; nothing was written" if dry_run else summary)


@app.command("list")
def list_(
    group: str = typer.Option(None, "--group", help="Only the members of this group."),
    json_: bool = typer.Option(False, "--json", help="Print a JSON list."),
) -> None:
    """List members with their groups."""
    from accord.services.members import list_members

    members = list_members(context(), group)
    if json_:
        print_json(members)
        return
    for m in members:
        typer.echo(f"{m['email']:<40} {m['name']:<30} {', '.join(m['groups'])}")
    typer.echo(f"{len(members)} member(s)")
