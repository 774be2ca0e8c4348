"""The `accord` command. Thin: it parses options, calls services and prints.

`accord --help` stays fast: no command module imports SQLAlchemy or Prefect at the top; each
command imports what it needs when it runs.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer
from typer.core import TyperGroup

from accord.cli.common import close_contexts, fail
from accord.cli.web import web as web_command

if TYPE_CHECKING:
    from typer._click import Command, Context  # typer's own copy of click

# The groups of commands: name -> (module, its Typer app), imported when the group is named.
GROUPS = {
    "members": ("accord.cli.members", "app"),
    "groups": ("accord.cli.groups", "app"),
    "kinds": ("accord.cli.groups", "kinds_app"),
    "report": ("accord.cli.report", "app"),
    "actions": ("accord.cli.actions", "app"),
    "statements": ("accord.cli.statements", "app"),
    "rounds": ("accord.cli.rounds", "app"),
    "replies": ("accord.cli.replies", "app"),
    "audit": ("accord.cli.audit", "app"),
    "data": ("accord.cli.data", "app"),
    "users": ("accord.cli.users", "app"),
}


class _LazyGroups(TyperGroup):
    """`accord` itself: a group's module is imported and its commands built when the group is
    named (or the help lists it). Importing and building all of them cost every command about
    30 ms of start-up (bench/RESULTS.md, section 3)."""

    def list_commands(self, ctx: Context) -> list[str]:
        return [*(name for name in super().list_commands(ctx) if name not in GROUPS), *GROUPS]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name in GROUPS and cmd_name not in self.commands:
            self.add_command(_group(cmd_name), cmd_name)
        elif cmd_name not in self.commands:  # a typo: typer suggests among all it knows
            for name in GROUPS:
                self.get_command(ctx, name)
        return super().get_command(ctx, cmd_name)


def _group(name: str) -> TyperGroup:
    """The group's commands, built as `app.add_typer` would have built them."""
    module, attribute = GROUPS[name]
    holder = typer.Typer(rich_markup_mode=None)
    holder.add_typer(getattr(importlib.import_module(module), attribute), name=name)
    return cast(TyperGroup, typer.main.get_group(holder).commands[name])


app = typer.Typer(
    name="accord",
    help="Follow-up actions and statement endorsement for a network's secretariat.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=_LazyGroups,
)
app.command(name="web")(web_command)


@app.command()
def up(
    demo: bool = typer.Option(
        False, "--demo", help="Load the sample report, demo members and a statement; start a round."
    ),
    prefect_port: int = typer.Option(
        4200, "--prefect-port", envvar="ACCORD_PREFECT_PORT", help="Port of the Prefect server."
    ),
    web_port: int | None = typer.Option(
        None,
        "--web-port",
        envvar="ACCORD_WEB_PORT",
        help="Port of the reply app (default: the port of ACCORD_PUBLIC_URL, else 8000).",
    ),
    report: Path | None = typer.Option(
        None, "--report", help="With --demo: the meeting report to load (default: the sample)."
    ),
) -> None:
    """Prefect server, served deployments, reply app and dev mailbox, until Ctrl-C."""
    from accord.cli.up import up as run_up

    run_up(demo, prefect_port, web_port, report)


@app.command()
def init() -> None:
    """Create the database, or migrate it in place to the newest schema."""
    from accord.cli.common import context
    from accord.services.setup import init_database

    result = init_database(context(require_ready=False))
    if result.created:
        typer.echo(f"created {result.database} (schema {result.after})")
    elif result.before != result.after:
        typer.echo(f"migrated {result.database} from {result.before} to {result.after}")
    else:
        typer.echo(f"{result.database} is up to date (schema {result.after})")


@app.command()
def sweep(json_: bool = typer.Option(False, "--json", help="Print the counts as JSON.")) -> None:
    """Once: close rounds that are due, write due reminders, deliver unsent mail.

    A flow run when a Prefect server is configured (PREFECT_API_URL), else done here."""
    from accord.cli.common import context, print_json
    from accord.services.results import plain
    from accord.services.sweep import sweep as run_sweep
    from flows.launch import run_flow_or_direct

    ctx = context()
    result = run_flow_or_direct("flows.sweep:sweep", {}, lambda: run_sweep(ctx))
    if json_:
        print_json(result)
    else:
        typer.echo(", ".join(f"{key}: {value}" for key, value in plain(result).items()))


def main() -> None:
    """Entry point: domain errors become one line on stderr and exit status 1."""
    from statemachines.errors import AccordError

    try:
        app()
    except AccordError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        close_contexts()
