"""`accord rounds ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="Endorsement and consultation rounds.", no_args_is_help=True)
