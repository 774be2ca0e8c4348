"""Deliver the outbox: claim rows, render each in its member's language, send, mark.

A claimed row carries a lease (wall clock, not ACCORD_NOW: ACCORD_OUTBOX_LEASE_SECONDS); a sender
that dies mid-batch leaves its rows to be claimed again once the lease ends. While a batch goes
out, accepted mail is marked sent every MARK_EVERY messages (or MARK_SECONDS), and the lease of the
rest is renewed, so the lease bounds a sender's silence, not the length of a batch. A row the
server had accepted but the dead sender had not yet marked is sent again: that in-flight window
(at most MARK_EVERY messages plus one per connection) is the only way a member can get the same
message (same Message-ID) twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from accord.services.composing import Composer
from accord.services.context import Context
from accord.services.pacing import grant, pause, refund, spend
from statemachines.pacing import Allowance, Limits
from storage.outbox import ClaimedMail

if TYPE_CHECKING:
    from accord.mail.smtp import Delivery

BATCH = 500
MARK_EVERY = 50
MARK_SECONDS = 1.0


@dataclass(frozen=True)
class MailCounts:
    """What a delivery settled, as `accord sweep --json` and the flows show it."""

    sent: int = 0
    failed: int = 0
    retry_later: int = 0


@dataclass(frozen=True)
class DeliveryReport:
    """`deferred`: rows put back to keep to the sending budget or because the server throttled
    (not failures); `next_at`: when the budget lets the next batch go, if it ended this call."""

    sent: int = 0
    failed: int = 0
    retry_later: int = 0
    deferred: int = 0
    next_at: datetime | None = None
    errors: tuple[str, ...] = ()

    @property
    def counts(self) -> MailCounts:
        return MailCounts(sent=self.sent, failed=self.failed, retry_later=self.retry_later)

    def plus(self, batch: DeliveryReport) -> DeliveryReport:
        """This report with a batch's counts and errors added."""
        return replace(
            self,
            sent=self.sent + batch.sent,
            failed=self.failed + batch.failed,
            retry_later=self.retry_later + batch.retry_later,
            deferred=self.deferred + batch.deferred,
            errors=self.errors + batch.errors,
        )


def deliver(
    ctx: Context,
    *,
    limit: int | None = None,
    batch: int = BATCH,
    patience: float = 0.0,
    purposes: Sequence[str] | None = None,
    keep_up: bool = True,
) -> DeliveryReport:
    """Send pending mail until none is left (or `limit` rows were tried). Each row is tried at
    most once a call (claims go up the ids), and a batch of which nothing could be settled (the
    server is down or answers 4xx to all) ends the call: what is left waits for the next sweep.

    Under a sending budget (accord.services.pacing) a batch holds what the budget allows; when it
    allows nothing, the call waits for it up to `patience` seconds in all, then ends with
    `next_at`. `purposes`, if given, limits the call to those kinds of mail. Without `keep_up`,
    a claim that finds fewer rows than it may take is the call's last: mail enqueued while it
    sends is left to the caller's next call (the answer courier, woken by each answer, gathers
    it into one batch instead of many small ones)."""
    report = DeliveryReport()
    limits = ctx.settings.smtp_limits
    waits_until = time.monotonic() + patience
    tried = after = 0
    while limit is None or tried < limit:
        size = batch if limit is None else min(batch, limit - tried)
        rows, granted = _claim(ctx, limits, size, after, purposes)
        if not rows:
            if granted.next_at is None or not _wait_for(granted.next_at, waits_until):
                return replace(report, next_at=granted.next_at)
            continue
        done, unstarted = _send_and_mark(ctx, limits, granted, rows)
        report = report.plus(done)
        tried += len(rows) - len(unstarted)
        after = min(unstarted) - 1 if unstarted else rows[-1].id
        if done.sent + done.failed == 0 and not unstarted:
            break
        if not keep_up and not unstarted and len(rows) < granted.count:
            break
    return report


def _wait_for(moment: datetime, waits_until: float) -> bool:
    """Sleep until `moment` (wall clock) if that is before `waits_until` (monotonic)."""
    delay = max((moment - datetime.now(UTC)).total_seconds(), 0.0)
    if time.monotonic() + delay > waits_until:
        return False
    time.sleep(delay)
    return True


def _claim(
    ctx: Context, limits: Limits, size: int, after: int, purposes: Sequence[str] | None
) -> tuple[list[ClaimedMail], Allowance]:
    """Lease up to `size` claimable rows after id `after`, as many as the budget grants, in one
    transaction with the grant."""
    now = datetime.now(UTC)
    with ctx.uow() as uow:
        granted = grant(uow, limits, size, now)
        if granted.count == 0:
            return [], granted
        ids = uow.outbox.claimable_ids(now, after=after, limit=granted.count, purposes=purposes)
        if not ids:
            return [], replace(granted, next_at=None)
        spend(uow, limits, granted, len(ids))
        lease = timedelta(seconds=ctx.settings.outbox_lease_seconds)
        rows = uow.outbox.lease(ids, now + lease)
        uow.commit()
        return rows, granted


def _send_and_mark(
    ctx: Context, limits: Limits, granted: Allowance, rows: Sequence[ClaimedMail]
) -> tuple[DeliveryReport, list[int]]:
    """Send the claimed rows and mark them: what became of them, and the ids of those that never
    started (put back)."""
    from accord.mail.smtp import SmtpTarget, send_all

    with ctx.uow(readonly=True) as uow:
        messages, unwritable = Composer(ctx, uow).compose_all(rows)
    progress = _Progress(ctx, [m.key for m in messages])
    target = SmtpTarget.from_settings(ctx.settings)
    start_before = _monotonic(granted.start_before)
    deliveries = (
        asyncio.run(send_all(target, messages, on_result=progress.add, start_before=start_before))
        if messages
        else []
    )
    rest = [d for d in deliveries if d.key not in progress.marked] + unwritable
    done = _mark(ctx, limits, granted, rest)
    unstarted = sorted(int(d.key) for d in deliveries if not d.started)
    return replace(done, sent=done.sent + len(progress.marked)), unstarted


def _monotonic(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return time.monotonic() + (moment - datetime.now(UTC)).total_seconds()


class _Progress:
    """Marks accepted mail sent while its batch is still going out, and renews the claim on the
    rest before a third of the lease is gone; failures are left to `_mark` at the end."""

    def __init__(self, ctx: Context, ids: Sequence[int]) -> None:
        self.ctx = ctx
        self.lease = timedelta(seconds=ctx.settings.outbox_lease_seconds)
        self.unmarked = set(ids)
        self.marked: set[int] = set()
        self.accepted: list[int] = []
        self.flushed = self.renewed = time.monotonic()

    def add(self, delivery: Delivery) -> None:
        if delivery.ok:
            self.accepted.append(delivery.key)
        now = time.monotonic()
        renew = now - self.renewed > self.lease.total_seconds() / 3
        if renew or len(self.accepted) >= MARK_EVERY or now - self.flushed >= MARK_SECONDS:
            self.flush(renew)

    def flush(self, renew: bool) -> None:
        if not (self.accepted or renew):
            self.flushed = time.monotonic()
            return
        now = datetime.now(UTC)
        self.unmarked.difference_update(self.accepted)
        with self.ctx.uow() as uow:
            if self.accepted:
                uow.outbox.mark_sent(self.accepted, now)
            if renew and self.unmarked:
                uow.outbox.renew(self.unmarked, now + self.lease)
            uow.commit()
        self.marked.update(self.accepted)
        self.accepted = []
        self.flushed = time.monotonic()
        if renew:
            self.renewed = self.flushed


def _mark(
    ctx: Context, limits: Limits, granted: Allowance, deliveries: Sequence[Delivery]
) -> DeliveryReport:
    """Mark what the server accepted sent, what it refused for good failed, put the rest back
    (pending); messages that never started get their attempt and their budget back, and a
    throttled server pauses every sender."""
    now = datetime.now(UTC)
    sent = [d.key for d in deliveries if d.ok]
    unstarted = [d.key for d in deliveries if not d.ok and not d.started]
    refused = [d for d in deliveries if not d.ok and d.started]
    throttled = [d for d in deliveries if not d.ok and d.throttled]
    with ctx.uow() as uow:
        if sent:
            uow.outbox.mark_sent(sent, now)
        if unstarted:
            uow.outbox.put_back(unstarted)
            refund(uow, limits, granted, len(unstarted))
        for d in refused:
            uow.outbox.settle(d.key, failed=d.permanent, error=(d.error or "")[:2000])
        if throttled:
            pause(uow, limits, now)
        uow.commit()
    return DeliveryReport(
        sent=len(sent),
        failed=sum(1 for d in deliveries if not d.ok and d.permanent),
        retry_later=sum(1 for d in refused if not d.permanent and not d.throttled),
        deferred=len(unstarted) + len(throttled),
        errors=tuple(f"outbox {d.key}: {d.error}" for d in refused if not d.throttled),
    )
