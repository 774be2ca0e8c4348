"""Action reminders: each responsible body's contacts are reminded 14 and 3 days before an action's
due date and once it is overdue; the secretariat gets a weekly digest.

Reminders are written to the outbox with a dedupe key per (action, body, contact, stage, due
date), so running this again (the sweep every 5 minutes, the daily deployment) adds nothing, and a
new due date re-arms them. Nothing goes out before 08:00 secretariat time: whoever runs this first
on a given day, reminders arrive in the morning.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from accord.services.context import Context
from accord.services.outbox import Mail, enqueue, is_queued
from accord.services.results import NOT_IN_JSON
from statemachines.actions import Action
from statemachines.reminders import STAGES, stage_for
from storage.uow import UnitOfWork

SEND_HOUR = 8
DEFAULT_LANGUAGE = "en"
DIGEST_LIMIT = 50


@dataclass(frozen=True)
class ReminderResult:
    """What a run wrote: the reminders and whether the week's digest (`accord sweep --json`'s
    `action_reminders` and `action_digests`), and each reminder's facts (for the flow's table)."""

    action_reminders: int = 0
    action_digests: int = 0
    rows: tuple[dict[str, Any], ...] = field(default=(), metadata=NOT_IN_JSON)


def remind_actions(ctx: Context) -> ReminderResult:
    """Write the action reminders and the week's digest that are due now."""
    local = ctx.now().astimezone(ctx.settings.tz)
    if local.hour < SEND_HOUR:
        return ReminderResult()
    today = local.date()
    with ctx.uow() as uow:
        # Only an open action due within 14 days (or overdue) can have a reminder due: read
        # those, not every action (the sweep runs this every 5 minutes).
        horizon = today + timedelta(days=max(STAGES.values()) + 1)
        due = uow.actions.list(overdue_on=horizon)
        languages = uow.members.languages([*_contacts(due), ctx.settings.mail_from])
        mails = [m for a in due for m in _reminders(a, today, languages)]
        reminders = enqueue(uow, mails, settings=ctx.settings)
        # The digest is weekly: counted while this week's is not written yet.
        digests = 0
        if not is_queued(uow, _digest_key(local)):
            language = languages.get(ctx.settings.mail_from.lower(), DEFAULT_LANGUAGE)
            digest = _digest(ctx, uow, due, today, local, language)
            digests = enqueue(uow, [digest], settings=ctx.settings) if digest else 0
        uow.commit()
    return ReminderResult(reminders, digests, tuple(dict(m.data or {}) for m in mails))


def _digest_key(local: datetime) -> str:
    year, week, _ = local.isocalendar()
    return f"action_digest:{year}-W{week:02d}"


def _contacts(due: list[Action]) -> set[str]:
    return {
        email
        for action in due
        for responsibility in getattr(action, "responsibilities", [])
        for email in responsibility.body.contact_emails or []
    }


def _reminders(action: Action, today: date, languages: dict[str, str]) -> list[Mail]:
    """One mail per contact of each responsible body, in the contact's language: that of the
    member (or console user) with the contact's address, else English."""
    due: date | None = getattr(action, "due_on", None)
    stage = stage_for(due, today) if due else None
    if stage is None or due is None:
        return []
    mails = []
    for responsibility in getattr(action, "responsibilities", []):
        body = responsibility.body
        for email in body.contact_emails or []:
            data = {
                **_action_facts(action, today),
                "body": body.name,
                "role": responsibility.role,
                "stage": stage,
                "language": languages.get(email.lower(), DEFAULT_LANGUAGE),
            }
            mails.append(
                Mail(
                    dedupe_key=f"action_reminder:{action.id}:{body.id}:{stage}:{due}:"
                    f"{_short_hash(email)}",
                    purpose="action_reminder",
                    to_addr=email,
                    data=data,
                )
            )
    return mails


def _digest(
    ctx: Context,
    uow: UnitOfWork,
    due: list[Action],
    today: date,
    local: datetime,
    language: str,
) -> Mail | None:
    """The week's digest of the open actions: their counts read in SQL, and the overdue and
    soon-due ones from `due` (every open action due before the reminders' horizon, in the
    order of the action list), so the 10,000 actions of a busy network are not all loaded."""
    states, unscheduled = uow.actions.open_counts()
    if not states:
        return None
    year, week, _ = local.isocalendar()
    facts = [_action_facts(a, today) for a in due]
    overdue = [f for f in facts if f["days"] is not None and f["days"] < 0]
    soon = [f for f in facts if f["days"] is not None and 0 <= f["days"] <= STAGES["14-days"]]
    return Mail(
        dedupe_key=_digest_key(local),
        purpose="action_digest",
        to_addr=ctx.settings.mail_from,
        data={
            "week": f"{year}-W{week:02d}",
            "today": today.isoformat(),
            "open": sum(states.values()),
            "states": states,
            "overdue": overdue[:DIGEST_LIMIT],
            "overdue_total": len(overdue),
            "due_soon": soon[:DIGEST_LIMIT],
            "due_soon_total": len(soon),
            "unscheduled": unscheduled,
            "language": language,
        },
    )


def _action_facts(action: Action, today: date) -> dict[str, Any]:
    due: date | None = getattr(action, "due_on", None)
    objective = getattr(action, "objective", None)
    return {
        "action_id": action.id,
        "text": action.text,
        "objective": f"{objective.number}. {objective.title}" if objective else "",
        "timeframe": action.timeframe_raw,
        "state": action.state,
        "due": due.isoformat() if due else None,
        "days": (due - today).days if due else None,
        "bodies": [r.body.name for r in getattr(action, "responsibilities", [])],
    }


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.lower().encode()).hexdigest()[:16]


def reminder_context(row: Any) -> dict[str, Any]:
    """What the action_reminder and action_digest templates read (frozen when written)."""
    key = "reminder" if row.purpose == "action_reminder" else "digest"
    return {key: dict(row.data or {})}
