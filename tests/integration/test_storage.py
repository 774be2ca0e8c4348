"""Storage on SQLite and on the real PostgreSQL: mapping, migrations, versions, the audit chain."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text, update

from statemachines.actions import Action, Responsibility
from statemachines.errors import Conflict
from statemachines.records import Body, Meeting, Objective
from statemachines.rounds import Round
from statemachines.statements import Statement
from storage import tables as t
from storage.migrate import current_revision, head_revision
from storage.uow import Database

NOW = datetime(2023, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(db_url: str) -> Database:
    database = Database(db_url)
    yield database
    database.dispose()


def _meeting_with_action(db: Database) -> int:
    with db.uow() as uow:
        meeting = Meeting(
            body="AG",
            title="First",
            name="First meeting",
            starts_on=date(2023, 7, 4),
            ends_on=date(2023, 7, 5),
            place=None,
            next_meeting_on=None,
            source_name="x.txt",
            source_sha256="0" * 64,
            imported_at=NOW,
        )
        uow.session.add(meeting)
        uow.flush()
        objective = Objective(meeting_id=meeting.id, number=1, title="Guide")
        uow.session.add(objective)
        uow.flush()
        action = Action(
            text="Do it",
            meeting_id=meeting.id,
            objective_id=objective.id,
            timeframe_raw="September 2023",
            due_on=date(2023, 9, 30),
            milestones=[],
        )
        action.responsibilities = [
            Responsibility(body=Body(name="ICC Secretariat", contact_emails=[]), role="lead")
        ]
        uow.actions.add(action)
        uow.commit()
        return action.id


def test_the_schema_is_at_the_newest_migration(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()
    names = set(inspect(db.engine).get_table_names())
    assert {"actions", "statements", "rounds", "audit_log", "members"} <= names


def test_sqlite_runs_in_wal_mode_with_foreign_keys(db: Database) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_an_action_round_trips_with_its_bodies_and_objective(db: Database) -> None:
    action_id = _meeting_with_action(db)
    with db.uow(readonly=True) as uow:
        action = uow.actions.get(action_id)
        assert action.objective.number == 1
        assert [(r.body.name, r.role) for r in action.responsibilities] == [
            ("ICC Secretariat", "lead")
        ]
        assert action.state == "proposed" and action.version == 1
        assert uow.actions.list(overdue_on=date(2023, 10, 1)) == [action]
        assert uow.actions.list(body="icc secretariat") == [action]


def test_of_two_concurrent_writers_of_an_action_exactly_one_wins(db: Database) -> None:
    action_id = _meeting_with_action(db)
    first, second = db.uow(), db.uow()
    with first:
        mine = first.actions.get(action_id)
        first.session.commit()  # end the read transaction; keep the loaded object
        with second:
            theirs = second.actions.get(action_id)
            theirs.fire("assess", outcome="accepted")
            second.commit()
        mine.fire("drop", reason="no longer needed")
        with pytest.raises(Conflict, match="someone else changed this"):
            first.commit()
    with db.uow(readonly=True) as uow:
        action = uow.actions.get(action_id)
        assert (action.state, action.version) == ("assessed", 2)


def test_of_two_concurrent_writers_of_a_statement_and_a_round_one_wins(db: Database) -> None:
    with db.uow() as uow:
        statement = Statement(title="Migrants Day", kind="awareness-day", slug="migrants-day")
        statement.add_version("We, the members...", at=NOW)
        uow.statements.add(statement)
        uow.flush()
        group = uow.groups.get_or_create("Advisory Group")
        uow.flush()
        rnd = Round(
            statement_id=statement.id,
            group_id=group.id,
            mode="endorse",
            rule="majority",
            deadline=NOW + timedelta(days=7),
            text_sha256=statement.current.sha256,
            version_number=1,
        )
        uow.rounds.add(rnd)
        uow.commit()
        ids = statement.id, rnd.id
    for loader in ("statements", "rounds"):
        with db.uow() as a, db.uow() as b:
            obj_a = getattr(a, loader).get(ids[loader == "rounds"])
            a.session.commit()
            obj_b = getattr(b, loader).get(ids[loader == "rounds"])
            b.session.commit()
            trigger = {
                "statements": ("withdraw", {"reason": "x"}),
                "rounds": ("close", {"outcome": "not_endorsed", "reason": "deadline"}),
            }
            name, kwargs = trigger[loader]
            obj_a.fire(name, **kwargs)
            a.commit()
            obj_b.fire(name, **kwargs)
            with pytest.raises(Conflict):
                b.commit()


def test_the_round_deadline_comes_back_as_aware_utc(db: Database) -> None:
    with db.uow() as uow:
        group = uow.groups.get_or_create("G")
        statement = Statement(title="S", kind="awareness-day", slug="s")
        statement.add_version("text", at=NOW)
        uow.statements.add(statement)
        uow.flush()
        deadline = datetime(2023, 12, 18, 18, 0, tzinfo=UTC)
        uow.rounds.add(
            Round(
                statement_id=statement.id,
                group_id=group.id,
                mode="endorse",
                rule="unanimous",
                deadline=deadline,
                text_sha256="x" * 64,
                version_number=1,
            )
        )
        uow.commit()
    with db.uow(readonly=True) as uow:
        assert uow.rounds.open_rounds()[0].deadline == deadline


def _append(db: Database, count: int) -> None:
    with db.uow() as uow:
        for i in range(count):
            uow.audit.append(
                actor="secretariat",
                channel="cli",
                entity_type="action",
                entity_id=i,
                action="assess",
                at=NOW + timedelta(seconds=i),
                payload={"outcome": "accepted", "note": f"é {i}"},
                text_sha256=None if i % 2 else "a" * 64,
            )
        uow.commit()


def _verify(db: Database) -> dict[str, object]:
    with db.uow(readonly=True) as uow:
        return uow.audit.verify().as_dict()


def test_an_untouched_record_verifies(db: Database) -> None:
    _append(db, 5)
    assert _verify(db) == {"entries": 5, "ok": True, "first_bad": None}


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        (update(t.audit_log).where(t.audit_log.c.seq == 3).values(actor="someone else"), 3),
        (update(t.audit_log).where(t.audit_log.c.seq == 2).values(payload='{"outcome":"no"}'), 2),
        (t.audit_log.delete().where(t.audit_log.c.seq == 2), 3),
        (t.audit_log.delete().where(t.audit_log.c.seq == 5), 5),
        (t.audit_log.delete().where(t.audit_log.c.seq == 1), 2),
    ],
    ids=["edit-actor", "edit-payload", "delete-middle", "delete-last", "delete-first"],
)
def test_tampering_is_detected_at_the_first_bad_entry(db: Database, tamper, first_bad) -> None:
    _append(db, 5)
    with db.engine.begin() as conn:
        conn.execute(tamper)
    result = _verify(db)
    assert result["ok"] is False
    assert result["first_bad"]["seq"] == first_bad


def test_reordering_two_entries_is_detected(db: Database) -> None:
    _append(db, 4)
    with db.engine.begin() as conn:
        rows = {r.seq: dict(r._mapping) for r in conn.execute(select(t.audit_log))}
        conn.execute(t.audit_log.delete())
        two, three = rows[2], rows[3]
        two["seq"], three["seq"] = 3, 2
        conn.execute(t.audit_log.insert(), [rows[1], three, two, rows[4]])
    result = _verify(db)
    assert result["ok"] is False and result["first_bad"]["seq"] == 2


def test_the_audit_log_hash_is_over_canonical_json(db: Database) -> None:
    _append(db, 1)
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT payload, hash, prev_hash FROM audit_log")).one()
    assert row.payload == '{"note":"é 0","outcome":"accepted"}'
    assert row.prev_hash == "0" * 64 and len(row.hash) == 64


def test_the_schema_head_constant_is_the_newest_migration() -> None:
    from storage.migrate import SCHEMA_HEAD

    assert head_revision() == SCHEMA_HEAD


def test_the_migrations_build_exactly_the_tables_the_code_declares(db: Database) -> None:
    from alembic import command

    from storage.migrate import alembic_config

    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)  # raises if the migrated schema differs from storage.tables


def test_a_begin_that_finds_sqlite_locked_fails_as_sqlalchemy_reports_errors(tmp_path) -> None:
    """BEGIN goes straight to the driver; its errors still come out as SQLAlchemy's, which the
    CLI and the reply app turn into one line."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from storage.db import _begin

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    waiter = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            _begin(waiter, "BEGIN IMMEDIATE")
    finally:
        holder.close()
        waiter.close()


def test_a_statement_run_through_the_driver_fails_as_sqlalchemy_reports_errors(
    db: Database,
) -> None:
    """The record's statements go straight to the driver; a failure still comes out as
    SQLAlchemy's error (what the callers catch), and nothing is kept."""
    from sqlalchemy.exc import IntegrityError

    from storage.plain import Reader

    with db.uow() as uow, pytest.raises(IntegrityError):
        Reader.of_session(uow.session).execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (%s, %s, %s)", 1, 0, "x" * 64
        )
    with db.uow(readonly=True) as uow:
        assert uow.audit.verify().ok
