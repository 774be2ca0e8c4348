"""Compose each outbox row's message: the member's language, links, reply address and dates.

What rows of one round share (the round, the statement, a rendered skeleton per language) is read
and rendered once per batch; each member's own values are then written in.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError

from accord.services.context import Context
from accord.services.links import link_url, make_token
from accord.services.statements import kind_meaning, kinds_named
from statemachines import rounds as rules
from statemachines.errors import NotFound
from storage import tables as t
from storage.uow import UnitOfWork

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


class Composer:
    """Builds each outbox row's message, caching what rows of one round share."""

    def __init__(self, ctx: Context, uow: UnitOfWork) -> None:
        self.ctx = ctx
        self.uow = uow
        self.settings = ctx.settings
        self.secret = ctx.settings.resolve_secret_key()
        self.kinds = kinds_named(uow)
        self._rounds: dict[int, dict[str, Any]] = {}
        self._statement_rows: dict[int, tuple[Any, list[Any]]] = {}
        self._statements: dict[tuple[int, int | None], dict[str, Any]] = {}
        self._skeletons: dict[tuple[Any, ...], Any] = {}
        self._seen: dict[tuple[Any, ...], int] = {}
        self._decisions: dict[int, Any] = {}

    def compose_all(self, rows: Sequence[Any]) -> tuple[list[Any], list[Any]]:
        """The messages of `rows`, and a permanent failure for each row that cannot be written
        (its data no longer matches the database): one broken row must not hold up its batch."""
        from accord.mail.smtp import Delivery, Outgoing

        members = self._members({r.member_id for r in rows if r.member_id})
        keys = self._reply_keys(rows)
        self._load({r.round_id for r in rows if r.round_id}, {r.statement_id for r in rows})
        self._load_decisions(rows)
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

    def _load_decisions(self, rows: Sequence[Any]) -> None:
        """The decisions this batch's receipts confirm, in one query (not one a receipt)."""
        ids = {(r.data or {}).get("decision_id") for r in rows if r.purpose == "receipt"}
        wanted = sorted(i for i in ids if i is not None and i not in self._decisions)
        if wanted:
            found = self.uow.session.execute(_DECISIONS, {"ids": wanted})
            self._decisions.update((d.id, d) for d in found)

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

        # Action mail has no member: its row's data carries the contact's language.
        language = member.language if member else (row.data or {}).get("language") or "en"
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
            statement = self._statement(row.statement_id, row.round_id)
            language = member.language if member else None  # the kind's meaning in theirs
            meaning = kind_meaning(self.kinds, statement["kind"], language)
            context["statement"] = {**statement, "kind_meaning": meaning}
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
                "kind_meaning": kind_meaning(self.kinds, statement.kind, "en"),
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


_DECISIONS = select(t.decisions).where(t.decisions.c.id.in_(bindparam("ids", expanding=True)))
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
