"""`accord statements ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="Institutional statements the group is asked to endorse.", no_args_is_help=True)
