"""`accord members ...`"""

from __future__ import annotations

from pathlib import Path

import typer

from accord.cli.common import context, print_json

app = typer.Typer(
    help="Members of the groups that are asked to endorse statements.", no_args_is_help=True
)


@app.command("import")
def import_(
    file: Path = typer.Argument(
        ...,
        help="CSV with columns name,email,organisation,groups,"
        "language,timezone (groups separated by ';').",
    ),
    json_: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Import or update members (matched by email). Any bad row: nothing is imported."""
    from accord.services.members import import_members

    result = import_members(context(), file)
    if json_:
        print_json(result.as_dict())
        return
    counts = result.as_dict()
    typer.echo(
        f"{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged"
    )


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
