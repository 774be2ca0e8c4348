"""Which database URLs storage.plain opens with the driver alone (the rest go to SQLAlchemy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from storage import plain


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////home/sec/.accord/accord.db", Path("/home/sec/.accord/accord.db")),
        ("sqlite:///accord.db", Path("accord.db")),
        ("sqlite+pysqlite:////srv/accord.db", Path("/srv/accord.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:////srv/accord.db?mode=ro&uri=true", None),
        ("sqlite:////srv/my%20accord.db", None),
        ("sqlite+aiosqlite:////srv/accord.db", None),
        ("postgresql+psycopg://postgres@127.0.0.1:5432/accord", None),
    ],
)
def test_sqlite_path_of_plain_urls_only(url: str, path: Path | None) -> None:
    assert plain.sqlite_path(url) == path


def test_postgresql_through_psycopg_without_options_only() -> None:
    assert plain._postgresql("postgresql+psycopg://bob:s3cr%40t@db.example:5433/accord") == (
        "postgresql://bob:s3cr%40t@db.example:5433/accord",
        "postgresql+psycopg://bob:***@db.example:5433/accord",
    )
    assert plain._postgresql("postgresql://postgres@127.0.0.1/accord") == (
        "postgresql://postgres@127.0.0.1/accord",
        "postgresql://postgres@127.0.0.1/accord",
    )
    for other in (
        "postgresql+psycopg2://postgres@127.0.0.1/accord",
        "postgresql+psycopg://postgres@127.0.0.1/accord?sslmode=require",
        "mysql+pymysql://root@127.0.0.1/accord",
    ):
        assert plain._postgresql(other) is None
        assert not plain.handles(other)


def test_utc_reads_sqlite_text_and_naive_datetimes_as_utc() -> None:
    expected = datetime(2026, 12, 18, 17, 0, tzinfo=UTC)
    assert plain.utc("2026-12-18 17:00:00.000000") == expected
    assert plain.utc(datetime(2026, 12, 18, 17, 0)) == expected
    assert plain.utc(None) is None


def test_placeholders_are_numbered_for_asyncpg() -> None:
    assert plain.numbered("SELECT a FROM t WHERE b = %s AND c = %s") == (
        "SELECT a FROM t WHERE b = $1 AND c = $2"
    )
    assert plain.numbered("SELECT 1") == "SELECT 1"


def test_stored_values_are_what_the_column_types_store() -> None:
    """A statement sent to the driver stores a moment as SQLAlchemy's column types would."""
    moment = datetime(2026, 12, 18, 18, 0, 0, 250, tzinfo=timezone(timedelta(hours=1)))
    assert plain.stored(moment, sqlite=True) == "2026-12-18 17:00:00.000250"
    assert plain.stored(moment, sqlite=False) == datetime(2026, 12, 18, 17, 0, 0, 250)
    assert plain.utc(plain.stored(moment, sqlite=True)) == moment
    assert plain.stored({"to": ["a@example.org"]}, sqlite=False) == '{"to": ["a@example.org"]}'
    assert plain.stored_values((1, "x", None), sqlite=True) == (1, "x", None)
    with pytest.raises(ValueError, match="naive datetime"):
        plain.stored(datetime(2026, 12, 18, 17, 0), sqlite=True)


def test_writes_become_one_statement_of_with_parts_in_order() -> None:
    writes = [
        ("UPDATE a SET x = %s WHERE id = %s", (1, 2)),
        ("INSERT INTO b (y) VALUES (%s)", (3,)),
    ]
    assert plain.one_statement(writes) == (
        "WITH w0 AS (UPDATE a SET x = %s WHERE id = %s), w1 AS (INSERT INTO b (y) VALUES (%s))"
        " SELECT 1",
        (1, 2, 3),
    )
    assert plain.one_statement(writes[:1]) == writes[0]
