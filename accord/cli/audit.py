"""`accord audit ...`"""

from __future__ import annotations

import typer

from accord.cli.common import context, fail, print_json

app = typer.Typer(help="The decision record (append-only, hash-chained).", no_args_is_help=True)


@app.command()
def verify(json_: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Recompute the hash chain; name the first entry that does not hold. Exit 1 if broken."""
    from accord.services.audit import verify_audit

    result = verify_audit(context())
    if json_:
        print_json(result.as_dict())
    elif result.ok:
        typer.echo(f"ok: {result.entries} entries, chain intact")
    else:
        bad = result.first_bad or {}
        typer.echo(f"BROKEN at entry {bad.get('seq')}: {bad.get('reason')}", err=True)
    if not result.ok:
        raise typer.Exit(1)


@app.command("list")
def list_(
    entity: str = typer.Option(
        "", "--entity", help="Only entries of this entity: TYPE (e.g. round) or TYPE:ID."
    ),
    limit: int = typer.Option(50, "--limit", help="Show at most this many entries."),
    before: int = typer.Option(
        None, "--before", help="Only entries older than this entry number (the next page)."
    ),
    json_: bool = typer.Option(False, "--json", help="Print the entries as JSON."),
) -> None:
    """Browse the decision record, newest first, as the console's record page does."""
    from accord.services.member_pages import browse_record

    entity_type, _, entity_id = entity.partition(":")
    if entity_id.strip() and not entity_type.strip():
        fail(f"--entity '{entity}': give TYPE or TYPE:ID, e.g. round or round:3")
    page = browse_record(
        context(),
        entity_type=entity_type.strip(),
        entity_id=entity_id.strip(),
        before=before,
        limit=limit,
    )
    if json_:
        print_json(page)
        return
    for e in page.entries:
        typer.echo(
            f"{e.seq:>6}  {e.recorded_at}  {e.actor} ({e.channel})  "
            f"{e.entity_type} {e.entity_id}: {e.action}"
        )
    if page.older_than is not None:
        typer.echo(f"older entries: --before {page.older_than}")
    elif not page.entries:
        typer.echo("no entries")
