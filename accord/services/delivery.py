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
import difflib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError

from accord.services.context import Context
from accord.services.links import link_url, make_token
from accord.services.outbox import claimable
from accord.services.pacing import grant, pause, refund, spend
from accord.services.statements import known_kinds
from statemachines import rounds as rules
from statemachines.errors import NotFound
from statemachines.pacing import Allowance, Limits
from storage import tables as t
from storage.uow import UnitOfWork

BATCH = 500
MARK_EVERY = 50
MARK_SECONDS = 1.0
AUTOMATIC = ("reminder", "action_reminder", "action_digest")
ASKING = ("invitation", "consultation", "reminder", "revision", "explain")
# Mail a round sends to every recipient: rendered once per round and language (a skeleton, see
# accord.mail.render.prepare), then each member's own values are written in. Making a skeleton
# costs three renders, so the first few mails of a round and language are rendered in full.
FANNED_OUT = ("invitation", "consultation", "reminder", "revision")
RENDERED_IN_FULL = 3
PERSONAL = (
    "member.name",
    "member.email",
    "round.deadline_member",
    "round.member_timezone",
    "link",
    "reply_address",
    "reminder_number",
)


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
) -> DeliveryReport:
    """Send pending mail until none is left (or `limit` rows were tried). Each row is tried at
    most once a call (claims go up the ids), and a batch of which nothing could be settled (the
    server is down or answers 4xx to all) ends the call: what is left waits for the next sweep.

    Under a sending budget (accord.services.pacing) a batch holds what the budget allows; when it
    allows nothing, the call waits for it up to `patience` seconds in all, then ends with
    `next_at`. `purposes`, if given, limits the call to those kinds of mail."""
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


class Composer:
    """Builds each outbox row's message, caching what rows of one round share."""

    def __init__(self, ctx: Context, uow: UnitOfWork) -> None:
        self.ctx = ctx
        self.uow = uow
        self.settings = ctx.settings
        self.secret = ctx.settings.resolve_secret_key()
        self.kinds = known_kinds(uow)
        self._rounds: dict[int, dict[str, Any]] = {}
        self._statement_rows: dict[int, tuple[Any, list[Any]]] = {}
        self._statements: dict[tuple[int, int | None], dict[str, Any]] = {}
        self._skeletons: dict[tuple[Any, ...], Any] = {}
        self._seen: dict[tuple[Any, ...], int] = {}

    def compose_all(self, rows: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        """The messages of `rows`, and a permanent failure for each row that cannot be written
        (its data no longer matches the database): one broken row must not hold up its batch."""
        from accord.mail.smtp import Delivery, Outgoing

        members = self._members({r.member_id for r in rows if r.member_id})
        keys = self._reply_keys(rows)
        self._load({r.round_id for r in rows if r.round_id}, {r.statement_id for r in rows})
        messages, unwritable = [], []
        for row in rows:
            member = members.get(row.member_id)
            try:
                data = self._message_bytes(row, member, keys.get((row.round_id, row.member_id)))
            except DBAPIError:
                raise  # the database, not the row: the batch is claimed again after its lease
            except Exception as error:  # any other failure is this row's own
                reason = f"cannot compose: {type(error).__name__}: {error}"
                unwritable.append(Delivery(key=row.id, ok=False, permanent=True, error=reason))
                continue
            messages.append(
                Outgoing(
                    key=row.id, sender=self.settings.mail_from, recipients=(row.to_addr,), data=data
                )
            )
        return messages, unwritable

    def _members(self, ids: set[int]) -> dict[int, Any]:
        """What a mail needs of each member (rows, not mapped objects: no groups loaded)."""
        if not ids:
            return {}
        found = self.uow.session.execute(_MEMBERS, {"ids": sorted(ids)})
        return {m.id: m for m in found}

    def _reply_keys(self, rows: Sequence[Any]) -> dict[tuple[int, int], str]:
        """The reply keys of this batch's recipients (not of their whole rounds)."""
        round_ids = {r.round_id for r in rows if r.round_id}
        member_ids = {r.member_id for r in rows if r.round_id and r.member_id}
        if not round_ids or not member_ids:
            return {}
        params = {"rounds": sorted(round_ids), "members": sorted(member_ids)}
        return {
            (r.round_id, r.member_id): r.reply_key
            for r in self.uow.session.execute(_REPLY_KEYS, params)
        }

    def _message_bytes(self, row: Any, member: Any, reply_key: str | None) -> bytes:
        from accord.mail.message import build_message

        context = self.context(row, member, reply_key)
        rendered = self._render(row, member, context)
        asks = row.purpose in ASKING and reply_key is not None
        return build_message(
            rendered,
            sender=self.settings.mail_from,
            to=row.to_addr,
            to_name=member.name if member else None,
            reply_to=self.settings.reply_pattern.format(key=reply_key) if asks else None,
            message_id=row.message_id,
            date=datetime.now(UTC),
            in_reply_to=row.thread_id,
            references=(row.thread_id,) if row.thread_id else (),
            auto_submitted="auto-generated" if row.purpose in AUTOMATIC else None,
        )

    def _render(self, row: Any, member: Any, context: dict[str, Any]) -> Any:
        """Render the row's mail; a round's fan-out fills in the round's skeleton instead."""
        from accord.mail.render import language_for, prepare, render

        language = member.language if member else "en"
        if member is None or not row.round_id or row.purpose not in FANNED_OUT:
            return render(row.purpose, language, context)
        previous = (row.data or {}).get("previous_sha256")
        key = (row.purpose, language_for(language), row.round_id, row.statement_id, previous)
        if key not in self._skeletons:
            self._seen[key] = seen = self._seen.get(key, 0) + 1
            if seen <= RENDERED_IN_FULL:
                return render(row.purpose, language, context)
            self._skeletons[key] = prepare(row.purpose, language, context, PERSONAL)
        skeleton = self._skeletons[key]
        filled = skeleton.fill_from(context) if skeleton is not None else None
        return filled or render(row.purpose, language, context)

    def context(self, row: Any, member: Any, reply_key: str | None = None) -> dict[str, Any]:
        context: dict[str, Any] = {}
        if row.statement_id:
            context["statement"] = self._statement(row.statement_id, row.round_id)
        if row.round_id:
            context["round"] = dict(self._round(row.round_id))
            context["group"] = {"name": context["round"]["group"]}
        if member is not None:
            context["member"] = {"name": member.name, "email": member.email}
            if row.round_id:
                self._personalise(context, row, member, reply_key)
        extra = getattr(self, f"_for_{row.purpose}", None)
        if extra is not None:
            context.update(extra(row, context))
        return context

    def _personalise(
        self, context: dict[str, Any], row: Any, member: Any, reply_key: str | None
    ) -> None:
        rnd = self._round(row.round_id)
        tz = ZoneInfo(member.timezone)
        deadline: datetime = rnd["_deadline"]
        context["round"]["deadline_member"] = _when(deadline, tz)
        context["round"]["member_timezone"] = member.timezone
        token = make_token(
            self.secret,
            round_id=row.round_id,
            member_id=member.id,
            text_sha256=rnd["_sha"],
            deadline=deadline,
            grace=timedelta(hours=self.settings.link_grace_hours),
        )
        context["link"] = link_url(self.settings.public_url, token)
        pattern = self.settings.reply_pattern
        context["reply_address"] = pattern.format(key=reply_key) if reply_key else ""
        context["reminder_number"] = (row.data or {}).get("reminder_number", 0)

    def _load(self, round_ids: set[int], statement_ids: set[int | None]) -> None:
        """The rounds (with their group's name) and statements (with their versions) not loaded
        yet, one query each for a whole batch: a sweep's mail comes from many rounds."""
        session = self.uow.session
        wanted = sorted(round_ids - self._rounds.keys())
        if wanted:
            tz = self.settings.tz
            query = (
                select(t.rounds, t.groups.c.name.label("group_name"))
                .outerjoin(t.groups, t.groups.c.id == t.rounds.c.group_id)
                .where(t.rounds.c.id.in_(wanted))
            )
            for rnd in session.execute(query):
                self._rounds[rnd.id] = {
                    "id": rnd.id,
                    "mode": rnd.mode,
                    "rule": rnd.rule,
                    "rule_text": rules.rule_text(rnd.rule),
                    "group": rnd.group_name or "",
                    "deadline_member": _when(rnd.deadline, tz),
                    "deadline_secretariat": _when(rnd.deadline, tz),
                    "member_timezone": self.settings.timezone,
                    "secretariat_timezone": self.settings.timezone,
                    "outcome": rnd.outcome,
                    "close_reason": rnd.close_reason,
                    "flagged_political": bool(rnd.flagged_political),
                    "state": rnd.state,
                    "_deadline": rnd.deadline,
                    "_sha": rnd.text_sha256,
                    "_version": rnd.version_number,
                }
        ids = sorted(i for i in statement_ids if i is not None and i not in self._statement_rows)
        if ids:
            versions: dict[int, list[Any]] = {i: [] for i in ids}
            query = (
                select(t.statement_versions)
                .where(t.statement_versions.c.statement_id.in_(ids))
                .order_by(t.statement_versions.c.statement_id, t.statement_versions.c.number)
            )
            for version in session.execute(query):
                versions[version.statement_id].append(version)
            for statement in session.execute(
                select(t.statements).where(t.statements.c.id.in_(ids))
            ):
                self._statement_rows[statement.id] = (statement, versions[statement.id])

    def _round(self, round_id: int) -> dict[str, Any]:
        if round_id not in self._rounds:
            self._load({round_id}, set())
            if round_id not in self._rounds:
                raise NotFound(f"no round with id {round_id}")
        return self._rounds[round_id]

    def _statement(self, statement_id: int, round_id: int | None) -> dict[str, Any]:
        key = (statement_id, round_id)
        if key not in self._statements:
            self._load(set(), {statement_id})
            if statement_id not in self._statement_rows:
                raise NotFound(f"no statement with id {statement_id}")
            statement, versions = self._statement_rows[statement_id]
            number = self._round(round_id)["_version"] if round_id else versions[-1].number
            version = next(v for v in versions if v.number == number)
            self._statements[key] = {
                "id": statement.id,
                "title": statement.title,
                "kind": statement.kind,
                "kind_meaning": self.kinds.get(statement.kind, ""),
                "political": bool(statement.political),
                "body": version.body,
                "sha256": version.sha256,
                "version": version.number,
                "slug": statement.slug,
                "_versions": {v.sha256: v.body for v in versions},
            }
        return self._statements[key]

    def _for_revision(self, row: Any, context: dict[str, Any]) -> dict[str, Any]:
        previous = (row.data or {}).get("previous_sha256", "")
        old = context["statement"]["_versions"].get(previous, "")
        diff = difflib.unified_diff(
            old.splitlines(),
            context["statement"]["body"].splitlines(),
            "previous text",
            "new text",
            lineterm="",
        )
        return {"diff": "\n".join(diff), "previous_sha256": previous}

    def _for_receipt(self, row: Any, context: dict[str, Any]) -> dict[str, Any]:
        decision = self.uow.session.execute(
            select(t.decisions).where(t.decisions.c.id == (row.data or {}).get("decision_id"))
        ).one()
        tz = ZoneInfo(context.get("round", {}).get("member_timezone", self.settings.timezone))
        return {
            "decision": {
                "value": decision.decision,
                "comment": decision.comment or "",
                "recorded_at": _when(decision.recorded_at, tz),
                "channel": decision.channel,
                "sha256": decision.text_sha256,
            }
        }

    def _for_result(self, row: Any, context: dict[str, Any]) -> dict[str, Any]:
        query = (
            select(
                t.members.c.name, t.members.c.email, t.recipients.c.decision, t.recipients.c.comment
            )
            .join(t.members)
            .where(t.recipients.c.round_id == row.round_id)
            .order_by(t.members.c.name)
        )
        decisions = [
            {
                "name": r.name,
                "email": r.email,
                "decision": r.decision or "pending",
                "comment": r.comment or "",
            }
            for r in self.uow.session.execute(query)
        ]
        counts = rules.tally(
            d["decision"] if d["decision"] != "pending" else None for d in decisions
        )
        return {"tally": counts.as_dict(), "decisions": decisions}

    def _for_published(self, row: Any, context: dict[str, Any]) -> dict[str, Any]:
        slug = context["statement"]["slug"]
        query = (
            select(t.members.c.name, t.members.c.organisation)
            .join(t.members)
            .where(
                t.recipients.c.round_id == row.round_id, t.recipients.c.decision == rules.ENDORSE
            )
            .order_by(t.members.c.name)
        )
        return {
            "url": f"{self.settings.public_url}/site/{slug}.html",
            "signatories": [
                {"name": r.name, "organisation": r.organisation or ""}
                for r in self.uow.session.execute(query)
            ],
        }

    def _for_explain(self, row: Any, context: dict[str, Any]) -> dict[str, Any]:
        return {"reason": (row.data or {}).get("reason", "")}

    def _for_action_reminder(self, row: Any, context: dict[str, Any]) -> dict[str, Any]:
        from accord.services.reminders import reminder_context

        return reminder_context(row)

    _for_action_digest = _for_action_reminder

    def _for_withdrawal(self, row: Any, context: dict[str, Any]) -> dict[str, Any]:
        return {"reason": (row.data or {}).get("reason", "")}


_MEMBERS = select(
    t.members.c.id, t.members.c.name, t.members.c.email, t.members.c.language, t.members.c.timezone
).where(t.members.c.id.in_(bindparam("ids", expanding=True)))
_REPLY_KEYS = select(
    t.recipients.c.round_id, t.recipients.c.member_id, t.recipients.c.reply_key
).where(
    t.recipients.c.round_id.in_(bindparam("rounds", expanding=True)),
    t.recipients.c.member_id.in_(bindparam("members", expanding=True)),
)


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} ({tz.key}, UTC{local:%z})"
