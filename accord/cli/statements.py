"""`accord statements ...`"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from accord.cli.common import context, print_json

app = typer.Typer(
    help="Institutional statements the group is asked to endorse.", no_args_is_help=True
)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")


def _summary(statement: Mapping[str, Any]) -> str:
    """One line of a statement, as `plain` data (a draft's, or a revision's with its keys)."""
    flag = ", political" if statement["political"] else ""
    return (
        f"statement {statement['id']} '{statement['title']}' ({statement['kind']}{flag}): "
        f"{statement['state']}, version {statement['current_version']} "
        f"sha256 {statement['sha256']}"
    )


@app.command()
def draft(
    title: str = typer.Option(..., "--title", help="One line; it becomes the mail subject."),
    kind: str = typer.Option(..., "--kind", help="Declared kind, e.g. awareness-day."),
    body_file: Path = typer.Option(..., "--body-file", help="UTF-8 text of the statement."),
    political: bool = typer.Option(False, "--political", help="Flag it as political."),
    json_: bool = JSON,
) -> None:
    """Draft a statement (version 1)."""
    from accord.services.statements import draft_statement, read_body_file

    result = draft_statement(
        context(), title=title, kind=kind, body=read_body_file(body_file), political=political
    )
    if json_:
        print_json(result)
        return
    from accord.services.results import plain

    typer.echo(_summary(plain(result)))


@app.command()
def revise(
    statement_id: int = typer.Argument(..., metavar="ID"),
    body_file: Path = typer.Option(..., "--body-file", help="UTF-8 text of the new version."),
    json_: bool = JSON,
) -> None:
    """New text version; in an open round earlier answers go stale and members are re-asked."""
    from accord.services.statement_rounds import revise_statement
    from accord.services.statements import read_body_file

    ctx = context()
    result = revise_statement(ctx, statement_id, read_body_file(body_file))
    if json_:
        print_json(result)
        return
    typer.echo(_summary(result.statement))
    if result.reasked:
        from accord.cli.common import deliver_now

        typer.echo(f"{result.reasked} member(s) asked again")
        deliver_now(ctx)


@app.command()
def show(statement_id: int = typer.Argument(..., metavar="ID"), json_: bool = JSON) -> None:
    """Show a statement, its versions and rounds."""
    from accord.services.statements import show_statement

    result = show_statement(context(), statement_id)
    if json_:
        print_json(result)
        return
    from accord.services.results import plain

    typer.echo(_summary(plain(result)))
    for version in result.versions:
        typer.echo(f"  v{version.number}  {version.sha256}  {version.created_at}")
    typer.echo(f"  rounds: {', '.join(map(str, result.rounds)) or 'none'}")
    typer.echo("")
    typer.echo(result.text)


@app.command()
def publish(statement_id: int = typer.Argument(..., metavar="ID"), json_: bool = JSON) -> None:
    """Publish an endorsed statement on behalf of those who endorsed it; asked again, show that
    publication and change nothing.

    A flow run when a Prefect server is configured (PREFECT_API_URL), else done here."""
    from accord.cli.common import deliver_now
    from accord.cli.rounds import report_mail
    from accord.services.operations import publication
    from accord.services.publish import publish_statement
    from accord.services.results import plain
    from flows.launch import run_flow_or_direct

    ctx = context()

    def direct() -> dict[str, Any]:
        earlier = publication(ctx, statement_id)
        if earlier is not None:
            return {**plain(earlier), "already_published": True}
        published = publish_statement(ctx, statement_id)
        deliver_now(ctx, quiet=json_)
        return plain(published)  # the same dict as the flow run's

    result = run_flow_or_direct(
        "flows.rounds:publish_statement", {"statement_id": statement_id}, direct
    )
    mail = result.pop("mail", None)
    if mail is not None:  # the flow run delivered it
        report_mail(mail, quiet=json_)
    result.setdefault("already_published", False)
    if json_:
        print_json(result)
        return
    verb = "already published" if result["already_published"] else "published"
    typer.echo(f"{verb} {result['path']}")
    typer.echo(f"url: {result['url']}")
    typer.echo(f"signatories: {len(result['signatories'])}")


@app.command()
def withdraw(
    statement_id: int = typer.Argument(..., metavar="ID"),
    reason: str = typer.Option(..., "--reason", help="Why; sent to those who had endorsed."),
) -> None:
    """Withdraw a statement; open rounds close and those who had endorsed are told."""
    from accord.cli.common import deliver_now
    from accord.services.statement_rounds import withdraw_statement

    ctx = context()
    result = withdraw_statement(ctx, statement_id, reason)
    typer.echo(f"statement {result.statement.id} withdrawn; {result.notified} endorser(s) notified")
    if result.page:
        typer.echo(f"site/{result.page} now says it was withdrawn, why, and lists no endorsers")
    deliver_now(ctx)


@app.command("list")
def list_(json_: bool = JSON) -> None:
    """Every statement, newest first: state, version and how many rounds it had."""
    from dataclasses import asdict

    from accord.services.statement_pages import list_statements

    found = list_statements(context())
    if json_:
        print_json([asdict(s) for s in found])
        return
    for s in found:
        typer.echo(f"{s.id:>4}  {s.state:<11} v{s.version}  {s.rounds} round(s)  {s.title}")
