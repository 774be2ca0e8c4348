"""Compose each outbox row's message: the member's language, links, reply address and dates.

What rows of one round share (the round, the statement, a rendered skeleton per language) is read
and rendered once per batch; each member's own values are then written in. Receipts, which the
reply app's courier sends a few at a time, keep their skeletons from one batch to the next.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from accord.services.context import Context
from accord.services.links import link_url, make_token
from accord.services.statements import kind_meaning, kinds_named
from statemachines import rounds as rules
from statemachines.errors import NotFound
from storage.mail_reads import (
    DatabaseFailure,
    DecisionFacts,
    MailReads,
    MemberFacts,
    RoundFacts,
    StatementFacts,
)
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from accord.mail.render import Rendered, Skeleton
    from accord.mail.skeletons import SkeletonCache
    from accord.mail.smtp import Delivery, Outgoing

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
# A receipt's own values besides the member's: its answer's comment and time. The answer itself
# and its channel are words a template looks up, so they are part of what receipts share.
RECEIPT_PERSONAL = (*PERSONAL, "decision.comment", "decision.recorded_at")


class OutboxRow(Protocol):
    """What composing reads of an outbox row (a row of `storage.tables.outbox`)."""

    @property
    def id(self) -> int: ...
    @property
    def purpose(self) -> str: ...
    @property
    def to_addr(self) -> str: ...
    @property
    def member_id(self) -> int | None: ...
    @property
    def round_id(self) -> int | None: ...
    @property
    def statement_id(self) -> int | None: ...
    @property
    def message_id(self) -> str: ...
    @property
    def thread_id(self) -> str | None: ...
    @property
    def data(self) -> dict[str, Any] | None: ...


class Composer:
    """Builds each outbox row's message, caching what rows of one round share."""

    def __init__(self, ctx: Context, uow: UnitOfWork) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.secret = ctx.settings.resolve_secret_key()
        self.reads = MailReads(uow.session)
        self.kinds = kinds_named(uow)
        self._rounds: dict[int, RoundFacts] = {}
        self._round_values: dict[int, dict[str, Any]] = {}
        self._statement_facts: dict[int, StatementFacts] = {}
        self._statements: dict[tuple[int, int | None], dict[str, Any]] = {}
        self._decisions: dict[int, DecisionFacts] = {}
        self._skeletons: dict[tuple[object, ...], Skeleton | None] = {}
        self._seen: dict[tuple[object, ...], int] = {}

    def compose_all(self, rows: Sequence[OutboxRow]) -> tuple[list[Outgoing], list[Delivery]]:
        """The messages of `rows`, and a permanent failure for each row that cannot be written
        (its data no longer matches the database): one broken row must not hold up its batch."""
        from accord.mail.smtp import Delivery, Outgoing

        members = self.reads.members({r.member_id for r in rows if r.member_id})
        round_ids = {r.round_id for r in rows if r.round_id}
        asked = {r.member_id for r in rows if r.round_id and r.member_id}
        keys = self.reads.reply_keys(round_ids, asked)
        self._load(round_ids, {r.statement_id for r in rows if r.statement_id})
        self._load_decisions(rows)
        messages: list[Outgoing] = []
        unwritable: list[Delivery] = []
        for row in rows:
            member = members.get(row.member_id)
            try:
                data = self._message_bytes(row, member, keys.get((row.round_id, row.member_id)))
            except DatabaseFailure:
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

    def _load_decisions(self, rows: Sequence[OutboxRow]) -> None:
        """The decisions this batch's receipts confirm, in one query (not one a receipt)."""
        ids = {(r.data or {}).get("decision_id") for r in rows if r.purpose == "receipt"}
        self._decisions.update(
            self.reads.decisions({i for i in ids if i is not None} - self._decisions.keys())
        )

    def _message_bytes(
        self, row: OutboxRow, member: MemberFacts | None, reply_key: str | None
    ) -> bytes:
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

    def _render(
        self, row: OutboxRow, member: MemberFacts | None, context: dict[str, Any]
    ) -> Rendered:
        """Render the row's mail; a round's fan-out fills in the round's skeleton instead, and a
        receipt the skeleton of receipts like it."""
        from accord.mail.render import language_for, prepare, render

        # Action mail has no member: its row's data carries the contact's language.
        language = member.language if member else (row.data or {}).get("language") or "en"
        if member is not None and row.round_id and row.purpose == "receipt":
            return _receipt_skeletons().render(row.purpose, language, context)
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

    def context(
        self, row: OutboxRow, member: MemberFacts | None, reply_key: str | None = None
    ) -> dict[str, Any]:
        """What the row's templates read."""
        context: dict[str, Any] = {}
        if row.statement_id:
            statement = self._statement(row.statement_id, row.round_id)
            language = member.language if member else None  # the kind's meaning in theirs
            meaning = kind_meaning(self.kinds, statement["kind"], language)
            context["statement"] = {**statement, "kind_meaning": meaning}
        if row.round_id:
            context["round"] = dict(self._values_of_round(row.round_id))
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
        self, context: dict[str, Any], row: OutboxRow, member: MemberFacts, reply_key: str | None
    ) -> None:
        rnd = self._round(row.round_id)
        tz = ZoneInfo(member.timezone)
        context["round"]["deadline_member"] = _when(rnd.deadline, tz)
        context["round"]["member_timezone"] = member.timezone
        token = make_token(
            self.secret,
            round_id=row.round_id,
            member_id=member.id,
            text_sha256=rnd.text_sha256,
            deadline=rnd.deadline,
            grace=timedelta(hours=self.settings.link_grace_hours),
        )
        context["link"] = link_url(self.settings.public_url, token)
        pattern = self.settings.reply_pattern
        context["reply_address"] = pattern.format(key=reply_key) if reply_key else ""
        context["reminder_number"] = (row.data or {}).get("reminder_number", 0)

    def _load(self, round_ids: Collection[int], statement_ids: Collection[int]) -> None:
        """The rounds (with their group's name) and statements (with their versions) not loaded
        yet, one query each for a whole batch: a sweep's mail comes from many rounds."""
        self._rounds.update(self.reads.rounds(set(round_ids) - self._rounds.keys()))
        self._statement_facts.update(
            self.reads.statements(set(statement_ids) - self._statement_facts.keys())
        )

    def _round(self, round_id: int) -> RoundFacts:
        if round_id not in self._rounds:
            self._load({round_id}, ())
            if round_id not in self._rounds:
                raise NotFound(f"no round with id {round_id}")
        return self._rounds[round_id]

    def _values_of_round(self, round_id: int) -> dict[str, Any]:
        """What templates read of a round, in the secretariat's time zone."""
        if round_id not in self._round_values:
            rnd = self._round(round_id)
            deadline = _when(rnd.deadline, self.settings.tz)
            self._round_values[round_id] = {
                "id": rnd.id,
                "mode": rnd.mode,
                "rule": rnd.rule,
                "rule_text": rules.rule_text(rnd.rule),
                "group": rnd.group,
                "deadline_member": deadline,
                "deadline_secretariat": deadline,
                "member_timezone": self.settings.timezone,
                "secretariat_timezone": self.settings.timezone,
                "outcome": rnd.outcome,
                "close_reason": rnd.close_reason,
                "flagged_political": rnd.flagged_political,
                "state": rnd.state,
            }
        return self._round_values[round_id]

    def _statement_of(self, statement_id: int) -> StatementFacts:
        if statement_id not in self._statement_facts:
            self._load((), {statement_id})
            if statement_id not in self._statement_facts:
                raise NotFound(f"no statement with id {statement_id}")
        return self._statement_facts[statement_id]

    def _statement(self, statement_id: int, round_id: int | None) -> dict[str, Any]:
        """What templates read of a statement: the version its round circulates (else the
        latest)."""
        key = (statement_id, round_id)
        if key not in self._statements:
            statement = self._statement_of(statement_id)
            last = statement.versions[-1].number if statement.versions else 0
            number = self._round(round_id).version_number if round_id else last
            version = next((v for v in statement.versions if v.number == number), None)
            if version is None:
                raise NotFound(f"statement {statement_id} has no version {number}")
            self._statements[key] = {
                "id": statement.id,
                "title": statement.title,
                "kind": statement.kind,
                "kind_meaning": kind_meaning(self.kinds, statement.kind, "en"),
                "political": statement.political,
                "body": version.body,
                "sha256": version.sha256,
                "version": version.number,
                "slug": statement.slug,
            }
        return self._statements[key]

    def _for_revision(self, row: OutboxRow, context: dict[str, Any]) -> dict[str, Any]:
        previous = (row.data or {}).get("previous_sha256", "")
        versions = self._statement_of(row.statement_id).versions
        old = next((v.body for v in versions if v.sha256 == previous), "")
        diff = difflib.unified_diff(
            old.splitlines(),
            context["statement"]["body"].splitlines(),
            "previous text",
            "new text",
            lineterm="",
        )
        return {"diff": "\n".join(diff), "previous_sha256": previous}

    def _for_receipt(self, row: OutboxRow, context: dict[str, Any]) -> dict[str, Any]:
        decision_id = (row.data or {}).get("decision_id")
        decision = self._decisions.get(decision_id)
        if decision is None:
            raise NotFound(f"decision {decision_id} of this receipt is not in the database")
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

    def _for_result(self, row: OutboxRow, context: dict[str, Any]) -> dict[str, Any]:
        decisions = [
            {
                "name": v.name,
                "email": v.email,
                "decision": v.decision or "pending",
                "comment": v.comment or "",
            }
            for v in self.reads.voters(row.round_id)
        ]
        counts = rules.tally(
            d["decision"] if d["decision"] != "pending" else None for d in decisions
        )
        return {"tally": counts.as_dict(), "decisions": decisions}

    def _for_published(self, row: OutboxRow, context: dict[str, Any]) -> dict[str, Any]:
        slug = context["statement"]["slug"]
        return {
            "url": f"{self.settings.public_url}/site/{slug}.html",
            "signatories": [
                {"name": s.name, "organisation": s.organisation or ""}
                for s in self.reads.signatories(row.round_id)
            ],
        }

    def _for_explain(self, row: OutboxRow, context: dict[str, Any]) -> dict[str, Any]:
        return {"reason": (row.data or {}).get("reason", "")}

    def _for_action_reminder(self, row: OutboxRow, context: dict[str, Any]) -> dict[str, Any]:
        from accord.services.reminders import reminder_context

        return reminder_context(row)

    _for_action_digest = _for_action_reminder

    def _for_withdrawal(self, row: OutboxRow, context: dict[str, Any]) -> dict[str, Any]:
        return {"reason": (row.data or {}).get("reason", "")}


@cache
def _receipt_skeletons() -> SkeletonCache:
    from accord.mail.skeletons import SkeletonCache

    return SkeletonCache(RECEIPT_PERSONAL, rendered_in_full=RENDERED_IN_FULL)


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} ({tz.key}, UTC{local:%z})"
