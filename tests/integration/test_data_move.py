"""`accord data export` on SQLite, `accord data import` on PostgreSQL: nothing lost."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from accord.services.answering import record_decision
from accord.services.context import Context
from accord.services.data import export_data, import_data
from accord.services.members import import_members
from accord.services.results import plain
from accord.services.rounds import start_round
from accord.services.setup import DEFAULT_KINDS
from accord.services.statements import draft_statement
from statemachines.errors import InvalidInput
from storage.tables import metadata
from tests.conftest import FIXED_NOW, FIXTURES, _pg_admin, _sqlalchemy_pg_url


def _context(tmp_path: Path, url: str) -> Context:
    from accord.config import Settings

    return Context(Settings(home=tmp_path / "home", database_url=url, now=FIXED_NOW))


@pytest.fixture
def sqlite_ctx(tmp_path: Path, sqlite_template: Path) -> Iterator[Context]:
    target = tmp_path / "source.db"
    shutil.copy(sqlite_template, target)
    ctx = _context(tmp_path, f"sqlite:///{target}")
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def pg_ctx(tmp_path: Path, pg_template: str) -> Iterator[Context]:
    name = f"accord_move_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    ctx = _context(tmp_path, _sqlalchemy_pg_url(name))
    yield ctx
    ctx.db.dispose()
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _populate(ctx: Context) -> None:
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(
        ctx, title="Migrants Day", kind="awareness-day", body="We, the members… «é»\n"
    )
    rnd = plain(
        start_round(
            ctx,
            statement_id=statement.id,
            group="Advisory Group",
            rule="majority",
            deadline=FIXED_NOW + timedelta(days=5),
        )
    )
    with ctx.uow(readonly=True) as uow:
        first = uow.members.list()[0]
    record_decision(
        ctx,
        round_id=rnd["id"],
        member_id=first.id,
        decision="endorse",
        comment="yes",
        channel="link",
    )


def _dump(ctx: Context) -> dict[str, list[dict[str, object]]]:
    with ctx.uow(readonly=True) as uow:
        return {
            t.name: [
                dict(r._mapping)
                for r in uow.session.execute(select(t).order_by(*t.primary_key.columns))
            ]
            for t in metadata.sorted_tables
        }


@pytest.mark.postgres
def test_moving_from_sqlite_to_postgresql_loses_nothing(
    sqlite_ctx: Context, pg_ctx: Context, tmp_path: Path
) -> None:
    _populate(sqlite_ctx)
    export = tmp_path / "accord.json"
    exported = export_data(sqlite_ctx, export)
    imported = import_data(pg_ctx, export)
    assert imported == exported and exported.rows["audit_log"] >= 4
    assert _dump(pg_ctx) == _dump(sqlite_ctx)
    with pg_ctx.uow(readonly=True) as uow:
        assert uow.audit.verify().ok
    _populate_more = draft_statement(
        pg_ctx, title="After the move", kind="awareness-day", body="new\n"
    )
    assert _populate_more.id == 2  # sequences moved past the imported ids


@pytest.mark.postgres
def test_import_refuses_a_database_that_is_not_empty(
    sqlite_ctx: Context, pg_ctx: Context, tmp_path: Path
) -> None:
    _populate(sqlite_ctx)
    export = tmp_path / "accord.json"
    export_data(sqlite_ctx, export)
    import_members(pg_ctx, FIXTURES / "members.csv")
    before = _dump(pg_ctx)
    with pytest.raises(InvalidInput, match="not empty"):
        import_data(pg_ctx, export)
    assert _dump(pg_ctx) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"format": "other"}', "not an accord export"),
        ('{"format": "accord-export", "schema": "0000"}', "exported at schema 0000"),
    ],
)
def test_a_bad_export_file_is_refused(sqlite_ctx: Context, tmp_path: Path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput, match=message):
        import_data(sqlite_ctx, bad)


def test_an_export_of_schema_0003_imports_with_each_round_counted(
    sqlite_ctx: Context, tmp_path: Path
) -> None:
    """Rounds kept no tally before 0004: the import counts it from the recipients' answers."""
    _populate(sqlite_ctx)
    export = tmp_path / "accord.json"
    export_data(sqlite_ctx, export)
    document = json.loads(export.read_text(encoding="utf-8"))
    document["schema"] = "0003"
    for row in document["tables"]["rounds"]:
        for key in ("endorse", "decline", "abstain", "pending"):
            del row[f"tally_{key}"]
    export.write_text(json.dumps(document), encoding="utf-8")
    target = _context(tmp_path / "target", f"sqlite:///{tmp_path / 'target.db'}")
    try:
        from storage.migrate import upgrade

        upgrade(target.db.engine)
        import_data(target, export)
        assert _dump(target) == _dump(sqlite_ctx)
        with target.uow(readonly=True) as uow:
            assert uow.rounds.get(1).counts.as_dict() == {
                "endorse": 1, "decline": 0, "abstain": 0, "pending": 6
            }  # fmt: skip
    finally:
        target.db.dispose()


def test_an_export_of_schema_0006_imports_with_the_built_in_french_meanings(
    sqlite_ctx: Context, tmp_path: Path
) -> None:
    """Kinds had no French before 0007: the built-in ones get theirs, as the migration gives
    them; a kind the secretariat wrote keeps English only."""
    from accord.services.groups import list_kinds, set_kind

    set_kind(sqlite_ctx, "joint-letter", "You co-sign a letter.", "Vous cosignez une lettre.")
    export = tmp_path / "accord.json"
    export_data(sqlite_ctx, export)
    document = json.loads(export.read_text(encoding="utf-8"))
    document["schema"] = "0006"
    for row in document["tables"]["kinds"]:
        del row["meaning_fr"]
    export.write_text(json.dumps(document), encoding="utf-8")
    target = _context(tmp_path / "target", f"sqlite:///{tmp_path / 'target.db'}")
    try:
        from storage.migrate import upgrade

        upgrade(target.db.engine)
        import_data(target, export)
        french = {kind.name: kind.meaning_fr for kind in list_kinds(target)}
        assert french["position"] == DEFAULT_KINDS["position"].meaning_fr
        assert french["joint-letter"] is None
        assert len(french) == 4
    finally:
        target.db.dispose()
