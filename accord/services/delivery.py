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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from accord.services.composing import Composer
from accord.services.context import Context
from accord.services.outbox import claimable
from accord.services.pacing import grant, pause, refund, spend
from statemachines.pacing import Allowance, Limits
from storage import tables as t

BATCH = 500
MARK_EVERY = 50
MARK_SECONDS = 1.0


@dataclass
class DeliveryReport:
    """`deferred`: rows put back to keep to the sending budget or because the server throttled
    (not failures); `next_at`: when the budget lets the next batch go, if it ended this call."""

    sent: int = 0
    failed: int = 0
    retry_later: int = 0
    deferred: int = 0
    next_at: datetime | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "retry_later": self.retry_later}


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
                report.next_at = granted.next_at
                break
            continue
        settled = report.sent + report.failed
        unstarted = _send_and_mark(ctx, limits, granted, rows, report)
        tried += len(rows) - len(unstarted)
        after = min(unstarted) - 1 if unstarted else rows[-1].id
        if report.sent + report.failed == settled and not unstarted:
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
) -> tuple[list[Any], Allowance]:
    """Lease up to `size` claimable rows after id `after`, as many as the budget grants, in one
    transaction with the grant."""
    now = datetime.now(UTC)
    with ctx.uow() as uow:
        granted = grant(uow, limits, size, now)
        if granted.count == 0:
            return [], granted
        query = (
            select(t.outbox.c.id)
            .where(claimable(now), t.outbox.c.id > after)
            .order_by(t.outbox.c.id)
            .limit(granted.count)
        )
        if purposes is not None:
            query = query.where(t.outbox.c.purpose.in_(purposes))
        if uow.session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
            query = query.with_for_update(skip_locked=True)
        ids = list(uow.session.scalars(query))
        if not ids:
            return [], replace(granted, next_at=None)
        spend(uow, limits, granted, len(ids))
        uow.session.execute(
            update(t.outbox)
            .where(t.outbox.c.id.in_(ids))
            .values(
                status="sending",
                claimed_until=now + timedelta(seconds=ctx.settings.outbox_lease_seconds),
                attempts=t.outbox.c.attempts + 1,
            )
        )
        rows = list(
            uow.session.execute(
                select(t.outbox).where(t.outbox.c.id.in_(ids)).order_by(t.outbox.c.id)
            )
        )
        uow.commit()
        return rows, granted


def _send_and_mark(
    ctx: Context, limits: Limits, granted: Allowance, rows: Sequence[Any], report: DeliveryReport
) -> list[int]:
    """Send the claimed rows and mark them; the ids of those that never started (put back)."""
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
    _mark(
        ctx,
        limits,
        granted,
        [d for d in deliveries if d.key not in progress.marked] + unwritable,
        report,
    )
    report.sent += len(progress.marked)
    return sorted(int(d.key) for d in deliveries if not d.started)


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

    def add(self, delivery: Any) -> None:
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
                uow.session.execute(
                    update(t.outbox)
                    .where(t.outbox.c.id.in_(self.accepted))
                    .values(status="sent", sent_at=now, last_error=None, claimed_until=None)
                )
            if renew and self.unmarked:
                uow.session.execute(
                    update(t.outbox)
                    .where(t.outbox.c.id.in_(self.unmarked), t.outbox.c.status == "sending")
                    .values(claimed_until=now + self.lease)
                )
            uow.commit()
        self.marked.update(self.accepted)
        self.accepted = []
        self.flushed = time.monotonic()
        if renew:
            self.renewed = self.flushed


def _mark(
    ctx: Context,
    limits: Limits,
    granted: Allowance,
    deliveries: Sequence[Any],
    report: DeliveryReport,
) -> None:
    """Mark what the server accepted sent, what it refused for good failed, put the rest back
    (pending); messages that never started get their attempt and their budget back, and a
    throttled server pauses every sender."""
    now = datetime.now(UTC)
    sent = [d.key for d in deliveries if d.ok]
    unstarted = [d.key for d in deliveries if not d.ok and not d.started]
    with ctx.uow() as uow:
        if sent:
            uow.session.execute(
                update(t.outbox)
                .where(t.outbox.c.id.in_(sent))
                .values(status="sent", sent_at=now, last_error=None, claimed_until=None)
            )
        if unstarted:
            uow.session.execute(
                update(t.outbox)
                .where(t.outbox.c.id.in_(unstarted))
                .values(status="pending", claimed_until=None, attempts=t.outbox.c.attempts - 1)
            )
            refund(uow, limits, granted, len(unstarted))
        for d in deliveries:
            if d.ok or not d.started:
                continue
            status = "failed" if d.permanent else "pending"
            uow.session.execute(
                update(t.outbox)
                .where(t.outbox.c.id == d.key)
                .values(status=status, last_error=(d.error or "")[:2000], claimed_until=None)
            )
            if not d.throttled:
                report.errors.append(f"outbox {d.key}: {d.error}")
        throttled = [d for d in deliveries if not d.ok and d.throttled]
        if throttled:
            pause(uow, limits, now)
        uow.commit()
    report.sent += len(sent)
    report.failed += sum(1 for d in deliveries if not d.ok and d.permanent)
    report.retry_later += sum(
        1 for d in deliveries if not d.ok and d.started and not d.permanent and not d.throttled
    )
    report.deferred += len(unstarted) + len(throttled)
