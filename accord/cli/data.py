"""`accord data ...`"""

from __future__ import annotations

from pathlib import Path

import typer

from accord.cli.common import context

app = typer.Typer(
    help="Move a whole installation: every table to JSON and back.", no_args_is_help=True
)


@app.command("export")
def export_(file: Path = typer.Argument(..., help="JSON file to write.")) -> None:
    """Write every table to FILE."""
    from accord.services.data import export_data

    moved = export_data(context(), file)
    typer.echo(f"exported {moved.total} rows from {len(moved.rows)} tables to {file}")


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="A file written by `accord data export`."),
) -> None:
    """Load FILE into a new, empty database (run `accord init` on it first)."""
    from accord.services.data import import_data

    moved = import_data(context(), file)
    typer.echo(f"imported {moved.total} rows into {len(moved.rows)} tables")
