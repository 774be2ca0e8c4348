"""`accord actions ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="Follow-up actions agreed at meetings.", no_args_is_help=True)
