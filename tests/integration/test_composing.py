"""Composing outbox mail (accord.services.composing) on SQLite and PostgreSQL.

- Receipts filled into skeletons kept across batches (accord.mail.skeletons) are byte for byte
  the receipts rendered in full: answers, comments (empty, hostile, on two lines), languages.
- A database that fails mid-batch is not a broken row: the batch fails (and is claimed again
  later), where a broken row alone is marked failed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from accord.mail.render import render
from accord.services import composing
from accord.services.answering import record_decision
from accord.services.composing import Composer
from accord.services.context import Context
from accord.services.members import import_members
from accord.services.rounds import start_round
from accord.services.statements import draft_statement
from storage import tables as t
from storage.mail_reads import DatabaseFailure
from tests.conftest import FIXED_NOW, FIXTURES

ANSWERS = (
    ("endorse", "#1"),
    ("decline", 'Not "ours" <b>&amp;</b> é\xa0x'),
    ("abstain", ""),
    ("endorse", "#2"),
    ("endorse", "two\nlines"),
    ("endorse", "#3"),
)


def _answered_round(ctx: Context) -> int:
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(
        ctx, title='Migrants & "Refugees" <Day>', kind="awareness-day", body="A text.\n"
    ).id
    rnd = start_round(
        ctx,
        statement_id=statement,
        group="Advisory Group",
        rule="majority",
        deadline=FIXED_NOW + timedelta(days=10),
    )
    with ctx.uow(readonly=True) as uow:
        query = select(t.recipients.c.member_id).where(t.recipients.c.round_id == rnd.id)
        members = sorted(uow.session.scalars(query))
    for member in members[:-1]:  # one left to answer: the round stays open
        for decision, comment in ANSWERS:
            record_decision(
                ctx,
                round_id=rnd.id,
                member_id=member,
                decision=decision,
                comment=comment,
                channel="link",
            )
    return rnd.id


def _receipts(ctx: Context) -> list[Any]:
    with ctx.uow(readonly=True) as uow:
        query = select(t.outbox).where(t.outbox.c.purpose == "receipt").order_by(t.outbox.c.id)
        return list(uow.session.execute(query))


def _without_date(data: bytes) -> bytes:
    """The Date header is the time of composing: the rest must match."""
    return b"\r\n".join(line for line in data.split(b"\r\n") if not line.startswith(b"Date: "))


def test_receipts_from_kept_skeletons_are_the_rendered_receipts(ctx: Context) -> None:
    _answered_round(ctx)
    rows = _receipts(ctx)
    composing._receipt_skeletons.cache_clear()
    with ctx.uow(readonly=True) as uow:
        slow = Composer(ctx, uow)
        slow._render = lambda row, member, context: render(  # type: ignore[method-assign]
            row.purpose, member.language if member else "en", context
        )
        expected, failed = slow.compose_all(rows)
        assert failed == [] and len(expected) == len(rows) > 30
        # The courier's batches are small: a new composer for each few receipts.
        fast = []
        for start in range(0, len(rows), 4):
            messages, failed = Composer(ctx, uow).compose_all(rows[start : start + 4])
            assert failed == []
            fast.extend(messages)
    assert [_without_date(m.data) for m in fast] == [_without_date(m.data) for m in expected]
    kept = composing._receipt_skeletons()._skeletons
    assert any(skeleton is not None for skeleton in kept.values()), "no receipt was filled in"


def test_a_database_failure_fails_the_batch_and_a_broken_row_only_itself(ctx: Context) -> None:
    from accord.services.outbox import Mail, enqueue

    _answered_round(ctx)
    with ctx.uow() as uow:
        broken = Mail("receipt:broken", "receipt", "x@example.org", data={"decision_id": 999_999})
        enqueue(uow, [broken], settings=ctx.settings)
        uow.commit()
    rows = _receipts(ctx)
    with ctx.uow(readonly=True) as uow:
        messages, failed = Composer(ctx, uow).compose_all(rows)
        assert len(messages) == len(rows) - 1
        assert [(f.key, f.permanent) for f in failed] == [(rows[-1].id, True)]
        assert failed[0].error.startswith("cannot compose: NotFound: decision 999999")
    with ctx.uow(readonly=True) as uow:
        composer = Composer(ctx, uow)
        uow.session.connection().connection.dbapi_connection.close()  # the database goes away
        with pytest.raises(DatabaseFailure):
            composer.compose_all(rows)


def test_a_batch_with_mail_to_no_member_is_composed(ctx: Context) -> None:
    """The result of a round goes to the secretariat (a row of the round with no member)."""
    from accord.services.rounds import close_round

    close_round(ctx, _answered_round(ctx))
    with ctx.uow(readonly=True) as uow:
        rows = list(uow.session.execute(select(t.outbox).order_by(t.outbox.c.id)))
        messages, failed = Composer(ctx, uow).compose_all(rows)
    assert any(r.purpose == "result" and r.member_id is None for r in rows)
    assert failed == [] and len(messages) == len(rows)
