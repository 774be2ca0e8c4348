"""`accord replies poll`: read the IMAP mailbox once (registered in accord.cli.replies)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from accord.services.reply_polling import PollResult


def poll(json_: bool) -> None:
    """Record the replies in the mailbox, answer them, send the mail they caused."""
    from accord.cli.common import context, fail, print_json
    from accord.services.reply_polling import poll_mailbox

    result = poll_mailbox(context())
    if json_:
        print_json(result)
    else:
        typer.echo(summary(result))
    failed = result.outcomes.get("error")
    if failed:
        fail(f"{failed} message(s) could not be processed; they stay unread for next time")


def summary(result: PollResult) -> str:
    """`3 messages: 2 recorded, 1 unrelated; mail: 2 sent`."""
    counts = result.outcomes
    line = f"{result.messages} message{'' if result.messages == 1 else 's'}"
    if counts:
        line += ": " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    mail = result.mail
    if mail:
        line += "; mail: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in mail.items())
    return line
