"""Poll the reply mailbox (IMAP): screen new mail by its header, process what concerns accord
(`accord.services.replies.process_reply`), mark it done, then send the mail it caused."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accord.config import Settings
from accord.inbound.imap import Mailbox, MailboxSettings
from accord.inbound.parse import REPORT, raw_key, read_message
from accord.services.context import Context
from accord.services.delivery import deliver
from accord.services.replies import ERROR, LATER, UNRELATED, ReplyOutcome, process_reply
from accord.services.reply_lookups import answered
from accord.services.results import INLINE_IN_JSON, NOT_IN_JSON_IF_NONE, plain
from statemachines.errors import InvalidInput

log = logging.getLogger(__name__)


def mailbox_settings(settings: Settings) -> MailboxSettings:
    """The IMAP settings; a missing one is a one-line error."""
    if not settings.imap_host:
        raise InvalidInput("no mailbox to poll: ACCORD_IMAP_HOST is not set")
    if not settings.imap_username or settings.imap_password is None:
        raise InvalidInput("ACCORD_IMAP_USERNAME and ACCORD_IMAP_PASSWORD must be set to poll")
    return MailboxSettings(
        host=settings.imap_host,
        port=settings.imap_port,
        username=settings.imap_username,
        password=settings.imap_password.get_secret_value(),
        tls=settings.imap_tls,
        folder=settings.imap_folder,
    )


@dataclass(frozen=True)
class PollResult:
    """A poll (`accord replies poll --json`): `messages` in all, then how many had each outcome
    (by name; only those that occurred), then `mail`, what delivery did (when it ran)."""

    messages: int
    outcomes: Mapping[str, int] = field(metadata=INLINE_IN_JSON)
    mail: Mapping[str, Any] | None = field(default=None, metadata=NOT_IN_JSON_IF_NONE)


def poll_mailbox(ctx: Context, *, limit: int = 500, deliver_mail: bool = True) -> PollResult:
    """Read the new mail of the folder once, then send the receipts and explanations it caused.

    Counts per outcome (`later`: over `limit`, left for the next poll). Delivery failing (SMTP
    down) loses nothing: the replies are recorded and their mail stays pending for `sweep`.
    """
    counts = asyncio.run(_read_folder(ctx, mailbox_settings(ctx.settings), limit))
    return PollResult(
        messages=sum(counts.values()),
        outcomes=dict(sorted(counts.items())),
        mail=_deliver(ctx) if deliver_mail else None,
    )


async def _read_folder(ctx: Context, settings: MailboxSettings, limit: int) -> Counter[str]:
    """Screen new mail by its header, fetch and process what may concern accord, mark it done.

    Only headers are read of the rest, so a busy shared inbox costs little, and its unread mail
    never crowds replies out of the `limit` (what is over it waits for the next poll).
    """
    counts: Counter[str] = Counter()
    async with Mailbox(settings) as box:
        heads = await box.headers(await box.new_messages())
        wanted = [uid for uid, head in heads.items() if _may_concern(ctx, head)]
        counts.update({UNRELATED: len(heads) - len(wanted), LATER: len(wanted[limit:])})
        for uid in wanted[:limit]:
            raw = await box.fetch(uid)
            if raw is None:  # gone meanwhile (moved or deleted by someone else)
                continue
            outcome = _process_or_keep(ctx, raw)
            counts[outcome.outcome] += 1
            if outcome.processed:
                await box.mark_done(uid)
    return +counts


def _may_concern(ctx: Context, header: bytes) -> bool:
    """From a header alone: a reply key, a delivery report, or an answer to a mail of ours."""
    head = read_message(header, reply_pattern=ctx.settings.reply_pattern)
    if head.reply_key or head.kind == REPORT:
        return True
    with ctx.uow(readonly=True) as uow:
        return bool(answered(uow, head))


def _process_or_keep(ctx: Context, raw: bytes) -> ReplyOutcome:
    """Process one mail; if that fails (database down, a bug), keep it unread for next time."""
    try:
        return process_reply(ctx, raw)
    except Exception as exc:  # one mail must not stop the others; it is retried next poll
        log.exception("could not process a reply; it stays unread")
        return ReplyOutcome(ERROR, raw_key(raw), detail=f"{type(exc).__name__}: {exc}"[:500])


def _deliver(ctx: Context) -> dict[str, Any]:
    try:
        return plain(deliver(ctx).counts)
    except Exception as exc:  # SMTP down: rows stay pending (or leased) for the next sweep
        log.warning("mail not delivered now: %s", exc)
        return {"sent": 0, "error": f"{type(exc).__name__}: {exc}"[:300]}
