"""`accord rounds ...`"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from accord.cli.common import context, print_json, secretariat_time

if TYPE_CHECKING:
    from accord.services.status import RecipientState, RoundDocument

app = typer.Typer(help="Endorsement and consultation rounds.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print the round as JSON.")


def _print_round(result: RoundDocument) -> None:
    warning = _delivery_warning(result.recipients)
    if warning:
        typer.echo(warning)
    tally = result.tally
    outcome = f", outcome {result.outcome} ({result.close_reason})" if result.outcome else ""
    typer.echo(
        f"round {result.id} of statement {result.statement_id} to "
        f"{result.group} ({result.mode}, rule {result.rule}): "
        f"{result.state}{outcome}"
    )
    typer.echo(
        f"deadline {secretariat_time(result.deadline)}  endorse {tally.endorse}  decline "
        f"{tally.decline}  abstain {tally.abstain}  pending {tally.pending}"
    )
    if result.flagged_political:
        typer.echo("FLAGGED: a member declined this as political; review it")
    for r in result.recipients:
        note = " (undeliverable)" if r.undeliverable else ""
        answer = f"{r.decision or 'pending'}{note}"
        typer.echo(f"  {r.email:<40} {answer:<24} {r.delivery or 'not mailed'}")
    queue = result.queue
    if queue.waiting:
        at = queue.next_batch_at
        when = secretariat_time(at) if at else "as soon as a sender runs"
        typer.echo(f"mail: {queue.waiting} still queued; next batch {when}")


def _delivery_warning(recipients: Sequence[RecipientState]) -> str | None:
    """The line that opens the status when any member's request has not reached the mail
    server: they cannot answer what they never got, and silence never counts as consent."""
    states = Counter(r.delivery or "not mailed" for r in recipients)
    stuck = sum(n for state, n in states.items() if state != "sent")
    if not stuck:
        return None
    order = ("queued", "failed", "bounced", "not mailed")
    counts = ", ".join(f"{states[state]} {state}" for state in order if states[state])
    return (
        f"WARNING: {stuck} of {len(recipients)} invitations have not left ({counts}); "
        "silence never counts as consent: `accord sweep` retries queued mail"
    )


@app.command()
def start(
    statement_id: int = typer.Argument(..., metavar="STATEMENT_ID"),
    group: str = typer.Option(..., "--group", help="The group to ask."),
    rule: str = typer.Option(..., "--rule", help="unanimous, majority or min:N."),
    deadline: str = typer.Option(
        ..., "--deadline", help="ISO date-time; without offset, secretariat time."
    ),
    mode: str = typer.Option("endorse", "--mode", help="endorse, or consult (non-binding)."),
    json_: bool = JSON,
) -> None:
    """Circulate the statement to the group and send the mail.

    A flow run when a Prefect server is configured (PREFECT_API_URL), else done here."""
    from accord.cli.common import deliver_now
    from accord.services.rounds import parse_deadline, round_status, start_round
    from flows.launch import run_flow_or_direct

    ctx = context()
    when = parse_deadline(deadline, ctx.settings.tz)

    def direct() -> dict[str, Any]:
        started = start_round(
            ctx, statement_id=statement_id, group=group, rule=rule, deadline=when, mode=mode
        )
        deliver_now(ctx, quiet=json_)
        return {"id": started.id}

    started = run_flow_or_direct(
        "flows.rounds:circulate_round",
        {
            "statement_id": statement_id,
            "group": group,
            "rule": rule,
            "deadline": when.isoformat(),
            "mode": mode,
        },
        direct,
    )
    if "mail" in started:  # the flow run delivered it
        report_mail(started["mail"], quiet=json_)
    result = round_status(ctx, started["id"])
    print_json(result) if json_ else _print_round(result)


def report_mail(mail: dict[str, int], *, quiet: bool = False) -> None:
    """The line `deliver_now` prints, for mail a flow run delivered."""
    if quiet:
        return
    line = f"mail: {mail['sent']} sent"
    if mail.get("failed"):
        line += f", {mail['failed']} failed"
    if mail.get("retry_later"):
        line += f", {mail['retry_later']} to retry (run `accord sweep` later)"
    sys.stderr.write(line + "\n")


@app.command()
def status(round_id: int = typer.Argument(..., metavar="ROUND_ID"), json_: bool = JSON) -> None:
    """Tally, recipients and delivery of a round."""
    # Read through the database driver alone (no SQLAlchemy, no ORM mapping, no unit of work):
    # SQLAlchemy's import alone would be half of this command's start-up (bench/RESULTS.md).
    from accord.config import load_settings
    from accord.services.status import round_status

    result = round_status(load_settings(), round_id)
    print_json(result) if json_ else _print_round(result)


@app.command()
def close(round_id: int = typer.Argument(..., metavar="ROUND_ID"), json_: bool = JSON) -> None:
    """Close now; the outcome is computed as at the deadline (silence is not consent)."""
    from accord.cli.common import deliver_now
    from accord.services.rounds import close_round

    ctx = context()
    result = close_round(ctx, round_id)
    deliver_now(ctx, quiet=json_)
    print_json(result) if json_ else _print_round(result)
