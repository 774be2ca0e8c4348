"""Moving a whole installation between databases (`accord data export|import`): every table read
in key order as JSON-ready rows, and written back with the same ids, the rounds' tallies counted
afresh and PostgreSQL's sequences moved past the imported ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table, func, or_, select, text, update

from statemachines import rounds as rules
from storage import tables as t
from storage.tables import UTCDateTime, metadata

SEEDED = ("kinds", "audit_head")  # rows `accord init` writes into a new database
Rows = list[dict[str, Any]]


def table_names() -> set[str]:
    return set(metadata.tables)


def export_tables(connection: Connection) -> dict[str, Rows]:
    """Every table's rows by primary key, dates and times as ISO text."""
    return {
        table.name: [
            _to_json(row._mapping)
            for row in connection.execute(select(table).order_by(*table.primary_key.columns))
        ]
        for table in metadata.sorted_tables
    }


def _to_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, date | datetime) else value
        for key, value in row.items()
    }


def first_table_with_rows(connection: Connection) -> str | None:
    """A table that holds work already (the seeded rows of a new database do not count)."""
    for table in metadata.sorted_tables:
        if table.name in SEEDED:
            continue
        if connection.scalar(select(func.count()).select_from(table)):
            return table.name
    return None


def import_tables(
    connection: Connection, tables: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, int]:
    """Write `tables` (as `export_tables` made them) in place of the seeded rows; rows keep their
    ids. Each round's tally is counted from its recipients, whatever the rows say."""
    for name in SEEDED:
        connection.execute(metadata.tables[name].delete())
    counts = {}
    for table in metadata.sorted_tables:
        rows = [_from_json(table, row) for row in tables.get(table.name, [])]
        if rows:
            connection.execute(table.insert(), rows)
        counts[table.name] = len(rows)
    recount_tallies(connection)
    _reset_sequences(connection)
    return counts


def _from_json(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    converted = dict(row)
    for column in table.columns:
        value = converted.get(column.name)
        if value is None:
            continue
        if isinstance(column.type, UTCDateTime | DateTime):
            converted[column.name] = datetime.fromisoformat(value)
        elif isinstance(column.type, Date):
            converted[column.name] = date.fromisoformat(value)
    return converted


def _reset_sequences(connection: Connection) -> None:
    """PostgreSQL: move each serial id past the imported rows."""
    if connection.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        column = table.c.get("id")
        if column is None or not column.autoincrement or not column.primary_key:
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )


def recount_tallies(connection: Connection) -> None:
    """Count every round's tally afresh from its recipients' answers, as `rules.tally` counts
    (for rows written without the tally: an export made before schema 0004)."""
    answered = {
        "endorse": (rules.ENDORSE, rules.SUPPORT),
        "decline": (rules.DECLINE, rules.CONCERNS),
        "abstain": (rules.ABSTAIN,),
    }
    of_round = t.recipients.c.round_id == t.rounds.c.id
    known = t.recipients.c.decision.in_([d for ds in answered.values() for d in ds])

    def counted(*where: Any) -> Any:
        return select(func.count()).where(of_round, *where).scalar_subquery()

    values = {
        f"tally_{key}": counted(t.recipients.c.decision.in_(decisions))
        for key, decisions in answered.items()
    }
    values["tally_pending"] = counted(or_(t.recipients.c.decision.is_(None), ~known))
    kept = {"updated_at": t.rounds.c.updated_at}  # a count, not a change of the round
    connection.execute(update(t.rounds).values(**values, **kept))
