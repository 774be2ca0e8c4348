"""`accord replies ...`"""

from __future__ import annotations

import typer

from accord.cli.common import context, print_json
from statemachines.answers import COMMENT_LIMIT, DECISIONS

app = typer.Typer(
    help="Members' answers received another way, and the reply mailbox.", no_args_is_help=True
)


@app.command()
def record(
    round_id: int = typer.Argument(..., metavar="ROUND_ID"),
    email: str = typer.Argument(..., metavar="EMAIL"),
    decision: str = typer.Option(
        ...,
        "--decision",
        help=(
            f"{', '.join(DECISIONS['endorse'])} "
            f"(consult rounds: {', '.join(DECISIONS['consult'])})."
        ),
    ),
    comment: str = typer.Option(
        None, "--comment", help=f"Reason or comment (at most {COMMENT_LIMIT:,} characters)."
    ),
    json_: bool = typer.Option(False, "--json", help="Print what was recorded as JSON."),
) -> None:
    """Record an answer received by phone or at a meeting, with the secretariat as the actor."""
    from accord.cli.common import deliver_now
    from accord.services.answering import record_decision
    from accord.services.rounds import recipient_by_email

    ctx = context()
    result = record_decision(
        ctx,
        round_id=round_id,
        member_id=recipient_by_email(ctx, round_id, email),
        decision=decision,
        comment=comment,
        channel="cli",
        actor=ctx.actor,
    )
    deliver_now(ctx, quiet=json_)
    if json_:
        print_json(result)
    else:
        typer.echo(
            f"recorded {result.decision} for {result.member} in round "
            f"{result.round_id} (round {result.round_state})"
        )


@app.command()
def poll(json_: bool = typer.Option(False, "--json", help="Print the counts as JSON.")) -> None:
    """Read the IMAP mailbox once: record replies, answer them, send the mail they caused."""
    from accord.cli.poll import poll as run_poll

    run_poll(json_)
