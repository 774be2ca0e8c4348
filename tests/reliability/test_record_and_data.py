"""The decision record and the data, on SQLite and PostgreSQL: tampering with a database made by
a real round is caught by `accord audit verify`, and `accord init` migrates an older schema in
place without losing a row.

Covered elsewhere, not repeated: tampering at the storage level with each kind of edit
(tests/integration/test_storage.py), `audit verify` after an edited members import
(test_cli_foundation.py), export/import SQLite to PostgreSQL (test_data_move.py).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update

from accord.services.answering import record_decision
from accord.services.context import Context
from accord.services.members import import_members
from accord.services.results import plain
from accord.services.rounds import close_round, member_by_email, start_round
from accord.services.setup import DEFAULT_KINDS
from accord.services.statements import draft_statement
from storage import tables as t
from storage.migrate import SCHEMA_HEAD, current_revision, upgrade
from storage.uow import Database
from tests.cli import run
from tests.conftest import FIXED_NOW, FIXTURES
from tests.reliability.conftest import DEADLINE, figure

ANSWERS = {
    "barry.cusack@example.org": "endorse",
    "gemma.pinyol@example.org": "endorse",
    "gregory.jaquet@example.org": "decline",
    "ingrid.rasmussen@example.org": "abstain",
}


def a_real_round(ctx: Context) -> None:
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(ctx, title="Migrants Day", kind="awareness-day", body="We...\n")
    args = {"group": "Advisory Group", "rule": "majority", "deadline": DEADLINE}
    rnd = plain(start_round(ctx, statement_id=statement.id, **args))
    for email, decision in ANSWERS.items():
        member = member_by_email(ctx, email)
        record_decision(
            ctx, round_id=rnd["id"], member_id=member, decision=decision, comment=None,
            channel="link",
        )  # fmt: skip
    close_round(ctx, rnd["id"])


def verify() -> dict[str, Any]:
    done = run("audit", "verify", "--json")
    result = json.loads(done.stdout)
    assert done.code == (0 if result["ok"] else 1)
    return result


def seq_of(engine: Engine, action: str, nth: int = 0) -> int:
    with engine.connect() as conn:
        query = select(t.audit_log.c.seq).where(t.audit_log.c.action == action)
        return list(conn.scalars(query.order_by(t.audit_log.c.seq)))[nth]


def swap(conn: Any, first: int, second: int) -> None:
    """Exchange the places of two entries (their content moves, their seq stays)."""
    rows = {r.seq: dict(r._mapping) for r in conn.execute(select(t.audit_log))}
    conn.execute(t.audit_log.delete().where(t.audit_log.c.seq.in_([first, second])))
    one, two = rows[first], rows[second]
    one["seq"], two["seq"] = second, first
    conn.execute(t.audit_log.insert(), [two, one])


TAMPERING = {
    "a decline rewritten as an endorsement": lambda conn, s: conn.execute(
        update(t.audit_log)
        .where(t.audit_log.c.seq == s["decline"])
        .values(payload=text("replace(payload, 'decline', 'endorse')"))
    ),
    "a decision deleted": lambda conn, s: conn.execute(
        t.audit_log.delete().where(t.audit_log.c.seq == s["decline"])
    ),
    "two decisions reordered": lambda conn, s: swap(conn, s["endorse"], s["decline"]),
    "the close deleted (the last entry)": lambda conn, s: conn.execute(
        t.audit_log.delete().where(t.audit_log.c.seq == s["close"])
    ),
}
FIRST_BAD = {
    "a decline rewritten as an endorsement": "decline",
    "a decision deleted": "after-decline",
    "two decisions reordered": "endorse",
    "the close deleted (the last entry)": "close",
}


@pytest.mark.parametrize("tampering", TAMPERING)
def test_tampering_with_a_real_rounds_record_is_caught_by_audit_verify(
    ctx: Context, tampering: str
) -> None:
    a_real_round(ctx)
    clean = verify()
    assert clean["ok"] and clean["entries"] == 8  # import, draft, start, 4 decisions, close
    engine = ctx.db.engine
    seqs = {
        "endorse": seq_of(engine, "decision.endorse", 1),
        "decline": seq_of(engine, "decision.decline"),
        "close": seq_of(engine, "close"),
    }
    seqs["after-decline"] = seqs["decline"] + 1
    with engine.begin() as conn:
        TAMPERING[tampering](conn, seqs)
    result = verify()
    assert result["ok"] is False
    assert result["first_bad"]["seq"] == seqs[FIRST_BAD[tampering]], result
    figure("tampering", case=tampering, first_bad=result["first_bad"])


# --- accord init on an older schema -----------------------------------------------------------


def _to_revision_0001(url: str) -> Database:
    """The database of an accord installed before the outbox (schema 0001), in use."""
    db = Database(url)
    with db.engine.begin() as conn:
        t.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(db.engine, "0001")
    assert current_revision(db.engine) == "0001"
    return db


def _fill_as_0001(ctx: Context) -> None:
    """Members, a statement, a round with answers and their record, as accord 0001 wrote them
    (no outbox yet: the round's rows are written without the services that mail)."""
    with ctx.db.engine.begin() as conn:  # the kinds `accord init` seeded, one of them edited
        rows = [{"name": k.name, "meaning": k.meaning} for k in DEFAULT_KINDS.values()]
        rows[-1]["meaning"] = "Edited by the secretariat."
        conn.execute(text("INSERT INTO kinds (name, meaning) VALUES (:name, :meaning)"), rows)
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(ctx, title="Migrants Day", kind="awareness-day", body="We...\n")
    with ctx.uow() as uow:
        group = uow.groups.named("Advisory Group")
        uow.statements.get(statement.id).state = "circulated"
        uow.flush()
        rnd = uow.session.execute(  # the round's columns of 0001 (the ORM maps today's)
            t.rounds.insert().values(
                statement_id=statement.id, group_id=group.id, mode="endorse", rule="majority",
                deadline=DEADLINE, text_sha256=statement.sha256, version_number=1,
                state="open", flagged_political=False, version=1,
            ).returning(t.rounds.c.id)
        ).one()  # fmt: skip
        members = uow.members.list("Advisory Group")
        uow.session.execute(
            t.recipients.insert(),
            [{"round_id": rnd.id, "member_id": m.id, "reply_key": f"{m.id:032x}",
              "reminders_sent": 0} for m in members],
        )  # fmt: skip
        uow.audit.append(actor="secretariat", channel="cli", entity_type="round",
                         entity_id=rnd.id, action="start", at=FIXED_NOW)  # fmt: skip
        for n, member in enumerate(members[:3]):
            at = FIXED_NOW + timedelta(hours=n)
            values = {"decision": "endorse", "decision_sha256": statement.sha256,
                      "decided_at": at}  # fmt: skip
            uow.session.execute(
                update(t.recipients)
                .where(t.recipients.c.round_id == rnd.id, t.recipients.c.member_id == member.id)
                .values(**values)
            )
            uow.session.execute(
                t.decisions.insert().values(
                    round_id=rnd.id, member_id=member.id, decision="endorse", channel="link",
                    text_sha256=statement.sha256, recorded_at=at,
                )
            )  # fmt: skip
            uow.audit.append(
                actor=member.email,
                channel="link",
                entity_type="round",
                entity_id=rnd.id,
                action="decision.endorse",
                at=at,
                payload={"member": member.email},
                text_sha256=statement.sha256,
            )
        uow.commit()


# Columns added after 0001 to tables that existed then.
ADDED_COLUMNS = {
    "rounds": ["tally_endorse", "tally_decline", "tally_abstain", "tally_pending"],
    "recipients": ["asked_at"],
    "kinds": ["meaning_fr"],
}
NEW_TABLES = (
    "outbox",
    "inbound_messages",
    "smtp_budget",
    "users",
    "console_sessions",
    "login_failures",
    "jobs",
)


def _dump(engine: Engine, names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The rows of the tables `names`, in the columns they had at 0001."""
    dump = {}
    with engine.connect() as conn:
        for name in names:
            table = t.metadata.tables[name]
            columns = [c for c in table.columns if c.name not in ADDED_COLUMNS.get(name, ())]
            query = select(*columns).order_by(*table.primary_key.columns)
            dump[name] = [dict(r._mapping) for r in conn.execute(query)]
    return dump


def _kept_tally(engine: Engine, round_id: int) -> dict[str, int]:
    query = select(*(t.rounds.c[c] for c in ADDED_COLUMNS["rounds"])).where(
        t.rounds.c.id == round_id
    )
    with engine.connect() as conn:
        row = conn.execute(query).one()
    return {name.removeprefix("tally_"): value for name, value in row._mapping.items()}


def _asked_at_is_the_round_creation(engine: Engine) -> bool:
    query = select(t.recipients.c.asked_at, t.rounds.c.created_at).join(t.rounds)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return bool(rows) and all(asked == created for asked, created in rows)


def _french_meanings(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(select(t.kinds.c.name, t.kinds.c.meaning_fr)).all())


@pytest.mark.own_database  # it takes the schema back to 0001
def test_accord_init_migrates_an_older_schema_in_place_without_loss(
    db_url: str, accord_env: dict[str, str]
) -> None:
    from accord.config import load_settings

    db = _to_revision_0001(db_url)
    ctx = Context(load_settings(), _db=db)
    try:
        _fill_as_0001(ctx)
        old_tables = [n for n in t.metadata.tables if n not in NEW_TABLES]
        before = _dump(db.engine, old_tables)
        refused = run("rounds", "status", "1")  # the older schema is refused, not misread
        assert refused.code == 1 and "accord init" in refused.stderr
        done = run("init")
        assert done.code == 0, done.stderr
        assert f"from 0001 to {SCHEMA_HEAD}" in done.stdout
        assert current_revision(db.engine) == SCHEMA_HEAD
        assert _dump(db.engine, old_tables) == before
        assert _dump(db.engine, ["outbox", "inbound_messages"]) == {
            "outbox": [], "inbound_messages": []
        }  # fmt: skip
        assert verify() == {"entries": 6, "ok": True, "first_bad": None}
        status = json.loads(run("rounds", "status", "1", "--json").stdout)
        assert status["tally"] == {"endorse": 3, "decline": 0, "abstain": 0, "pending": 4}
        assert _kept_tally(db.engine, 1) == status["tally"]  # counted once by the migration
        assert _asked_at_is_the_round_creation(db.engine)  # filled in by 0005
        assert _french_meanings(db.engine) == {  # filled in by 0007 where it is not edited
            **{k.name: k.meaning_fr for k in DEFAULT_KINDS.values()},
            "position": None,
        }
        again = run("init")
        assert "up to date" in again.stdout
        figure(
            "init-migrates",
            database=db.engine.dialect.name,
            rows_kept=sum(len(rows) for rows in before.values()),
            message=done.stdout.strip().replace(db_url, "<url>"),
        )
    finally:
        db.dispose()
