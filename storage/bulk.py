"""Statements over many rows that stay short on PostgreSQL.

psycopg rewrites every `%(name)s` placeholder of a statement on the client before sending it, so a
statement with one placeholder per value (a multi-row `VALUES`, an `IN` list) costs time in
proportion to its rows before the server sees it: a second for 10,000 members (bench/RESULTS.md,
section 4). On PostgreSQL the values go as one array per column instead (`unnest`, `= ANY`), a
handful of placeholders whatever the row count. SQLite binds parameters without rewriting the
statement, so there the plain forms stay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Row,
    Table,
    any_,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def among(session: Session, column: ColumnElement[Any], values: Sequence[Any]) -> Any:
    """`column IN (values)`: one array parameter on PostgreSQL."""
    if _postgresql(session):
        return column == any_(literal(list(values), ARRAY(column.type)))
    return column.in_(values)


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[ColumnElement[Any]] = (),
) -> list[Row[Any]]:
    """Insert rows that all name the same columns, in their order (the columns they leave out
    get their defaults); the `returning` columns of each, when asked for."""
    if not rows:
        return []
    statement: Any = insert(table)
    parameters: list[Mapping[str, Any]] | None = list(rows)
    if _postgresql(session):
        statement = statement.from_select(list(rows[0]), _unnested(table, rows))
        parameters = None
    if returning:
        return list(session.execute(statement.returning(*returning), parameters))
    session.execute(statement, parameters)
    return []


def update_rows(
    session: Session, table: Table, key: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Set the columns each row names (the same for each) on the table's row whose `key` column
    has the row's `key` value; columns with an `onupdate` default get it."""
    if not rows:
        return
    names = [name for name in rows[0] if name != key]
    if _postgresql(session):
        values = _arrays(table, rows)
        statement = update(table).where(table.c[key] == values.c[key])
        session.execute(statement.values({name: values.c[name] for name in names}))
        return
    statement = update(table).where(table.c[key] == bindparam(f"row_{key}"))
    statement = statement.values({name: bindparam(f"row_{name}") for name in names})
    session.execute(
        statement, [{f"row_{name}": value for name, value in row.items()} for row in rows]
    )


def _unnested(table: Table, rows: Sequence[Mapping[str, Any]]) -> Any:
    """The rows as a SELECT from one array per column, in their order."""
    values = _arrays(table, rows, with_ordinality="position")
    return select(*(values.c[name] for name in rows[0])).order_by(values.c.position)


def _arrays(table: Table, rows: Sequence[Mapping[str, Any]], **ordinality: str) -> Any:
    """`unnest` of one array per column of the rows, as a table with those columns."""
    names = list(rows[0])
    arrays = [literal([row[name] for row in rows], ARRAY(table.c[name].type)) for name in names]
    return func.unnest(*arrays).table_valued(*names, **ordinality).render_derived()
