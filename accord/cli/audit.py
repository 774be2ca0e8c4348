"""`accord audit ...`"""

from __future__ import annotations

import typer

from accord.cli.common import context, print_json

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
