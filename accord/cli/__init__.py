"""The `accord` command. Thin: it parses options, calls services and prints.

`accord --help` stays fast: no command module imports SQLAlchemy or Prefect at the top; each
command imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from accord.cli import (
    actions,
    audit,
    data,
    groups,
    members,
    replies,
    report,
    rounds,
    statements,
)
from accord.cli.common import close_contexts, fail
from accord.cli.web import web as web_command

app = typer.Typer(
    name="accord",
    help="Follow-up actions and statement endorsement for a network's secretariat.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(members.app, name="members")
app.add_typer(groups.app, name="groups")
app.add_typer(groups.kinds_app, name="kinds")
app.add_typer(report.app, name="report")
app.add_typer(actions.app, name="actions")
app.add_typer(statements.app, name="statements")
app.add_typer(rounds.app, name="rounds")
app.add_typer(replies.app, name="replies")
app.add_typer(audit.app, name="audit")
app.add_typer(data.app, name="data")
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
    from accord.services.sweep import sweep as run_sweep
    from flows.launch import run_flow_or_direct

    ctx = context()
    result = run_flow_or_direct("flows.sweep:sweep", {}, lambda: run_sweep(ctx))
    if json_:
        print_json(result)
    else:
        typer.echo(", ".join(f"{key}: {value}" for key, value in result.items()))


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
