"""`accord report ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="Meeting reports: import them, render the follow-up report.", no_args_is_help=True)
