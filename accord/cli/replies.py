"""`accord replies ...`"""

from __future__ import annotations

import typer

app = typer.Typer(help="Members' answers received another way, and the reply mailbox.", no_args_is_help=True)
