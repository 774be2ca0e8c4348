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
        print_json(result)
        return
    for change in result.changes[:MAX_CHANGES_SHOWN]:
        typer.echo(change.describe(done=not dry_run))
    if len(result.changes) > MAX_CHANGES_SHOWN:
        more = len(result.changes) - MAX_CHANGES_SHOWN
        typer.echo(f"… and {more} more (--json lists every change)")
    summary = result.summary()
    typer.echo(f"dry run: {summary}; nothing was written" if dry_run else summary)


@app.command("list")
def list_(
    search: str = typer.Option(
        "", "--search", help="Only members whose name, email or organisation holds this text."
    ),
    group: str = typer.Option(None, "--group", help="Only the members of this group."),
    limit: int = typer.Option(None, "--limit", help="Show at most this many (default: all)."),
    offset: int = typer.Option(0, "--offset", help="Skip this many first (with --limit: pages)."),
    json_: bool = typer.Option(False, "--json", help="Print a JSON list."),
) -> None:
    """List members by name with their groups; search and page through them as the console
    does."""
    from accord.services.member_pages import search_members

    found = search_members(context(), search=search, group=group, offset=offset, limit=limit)
    if json_:
        print_json(found.members)
        return
    for m in found.members:
        typer.echo(f"{m.email:<40} {m.name:<30} {', '.join(m.groups)}")
    shown = len(found.members)
    if shown == found.total:
        typer.echo(f"{found.total} member(s)")
    elif shown:
        typer.echo(f"members {offset + 1}-{offset + shown} of {found.total}")
    else:
        typer.echo(f"none shown of {found.total} member(s)")
