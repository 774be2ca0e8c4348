"""`accord rounds status`, read with SQLAlchemy Core alone.

The secretariat runs it often and it only reads, so it skips what the other commands need: the
ORM mapping, the unit of work, the mail and the services behind them. It returns what
`accord.services.rounds.round_status` returns (a test holds the two together).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from accord.config import Settings
from accord.services.ready import check_ready
from statemachines import rounds as rules
from statemachines.errors import NotFound
from storage import tables as t
from storage.db import make_engine


def round_status(settings: Settings, round_id: int) -> dict[str, Any]:
    engines: list[Engine] = []

    def engine_for() -> Engine:
        engines.append(make_engine(settings.db_url))
        return engines[0]

    try:
        check_ready(settings.db_url, engine_for)
        with engines[0].connect().execution_options(readonly=True) as connection:
            return _round_dict(connection, round_id)
    finally:
        for engine in engines:
            engine.dispose()


def _round_dict(connection: Any, round_id: int) -> dict[str, Any]:
    rnd = connection.execute(
        select(t.rounds, t.groups.c.name.label("group_name"))
        .outerjoin(t.groups, t.groups.c.id == t.rounds.c.group_id)
        .where(t.rounds.c.id == round_id)
    ).first()
    if rnd is None:
        raise NotFound(f"no round with id {round_id}")
    query = (
        select(
            t.members.c.email,
            t.members.c.name,
            t.members.c.undeliverable,
            t.recipients.c.decision,
            t.recipients.c.comment,
            t.recipients.c.decided_at,
            t.recipients.c.reminders_sent,
        )
        .join(t.members)
        .where(t.recipients.c.round_id == round_id)
        .order_by(t.members.c.name)
    )
    recipients = [
        {
            "email": r.email,
            "name": r.name,
            "decision": r.decision,
            "comment": r.comment,
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "reminders_sent": r.reminders_sent,
            "undeliverable": bool(r.undeliverable),
        }
        for r in connection.execute(query)
    ]
    delivery = {"pending": 0, "sending": 0, "sent": 0, "failed": 0}
    delivery.update(
        dict(
            connection.execute(
                select(t.outbox.c.status, func.count())
                .where(t.outbox.c.round_id == round_id)
                .group_by(t.outbox.c.status)
            ).all()
        )
    )
    return {
        "id": rnd.id,
        "statement_id": rnd.statement_id,
        "group": rnd.group_name,
        "mode": rnd.mode,
        "state": rnd.state,
        "outcome": rnd.outcome,
        "close_reason": rnd.close_reason,
        "rule": rnd.rule,
        "deadline": rnd.deadline.isoformat(),
        "version": rnd.version_number,
        "text_sha256": rnd.text_sha256,
        "flagged_political": bool(rnd.flagged_political),
        "tally": rules.tally(r["decision"] for r in recipients).as_dict(),
        "delivery": delivery,
        "recipients": recipients,
    }
