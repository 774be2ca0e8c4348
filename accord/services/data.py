"""`accord data export|import`: every table to one JSON document and back.

It moves a whole installation between databases (SQLite to PostgreSQL) without loss: rows keep
their ids, so the decision record's hash chain and every reference survive the move.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Table, func, or_, select, text, update

from accord.services.context import Context
from statemachines import rounds as rules
from statemachines.errors import InvalidInput
from storage import tables as t
from storage.migrate import SCHEMA_HEAD
from storage.tables import UTCDateTime, metadata
from storage.uow import UnitOfWork

FORMAT = "accord-export"
# The schemas whose exports this accord imports: 0003 differs only by the rounds' tallies, which
# the import counts anyway; 0004 by recipients.asked_at (read as the round's creation when
# missing) and the SMTP budget (started afresh); 0004 and 0005 lack the console's tables
# (users, sessions: none are moved).
READABLE_SCHEMAS = ("0003", "0004", "0005", "0006", SCHEMA_HEAD)
SEEDED = ("kinds", "audit_head")  # rows `accord init` writes into a new database


def export_data(ctx: Context, path: Path) -> dict[str, int]:
    document: dict[str, Any] = {"format": FORMAT, "schema": SCHEMA_HEAD, "tables": {}}
    with ctx.uow(readonly=True) as uow:
        for table in metadata.sorted_tables:
            order = [c for c in table.primary_key.columns]
            rows = uow.session.execute(select(table).order_by(*order))
            document["tables"][table.name] = [_to_json(table, row._mapping) for row in rows]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return {name: len(rows) for name, rows in document["tables"].items()}


def _to_json(table: Table, row: Any) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, date | datetime) else value
        for key, value in row.items()
    }


def import_data(ctx: Context, path: Path) -> dict[str, int]:
    """Load an export into an initialised, empty database; refuse anything else unchanged.
    Each round's tally is counted from its recipients, whatever the file says."""
    document = _read(path)
    with ctx.uow() as uow:
        _require_empty(uow)
        for name in SEEDED:
            uow.session.execute(metadata.tables[name].delete())
        counts = {}
        for table in metadata.sorted_tables:
            rows = [_from_json(table, row) for row in document["tables"].get(table.name, [])]
            if rows:
                uow.session.execute(table.insert(), rows)
            counts[table.name] = len(rows)
        recount_tallies(uow)
        _reset_sequences(uow)
        uow.commit()
    return counts


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput(f"{path}: not an accord export (not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidInput(f"{path}: not an accord export")
    if document.get("schema") not in READABLE_SCHEMAS:
        raise InvalidInput(
            f"{path}: exported at schema {document.get('schema')}, this accord "
            f"is at {SCHEMA_HEAD}; import it with the matching accord version"
        )
    unknown = set(document.get("tables", {})) - set(metadata.tables)
    if unknown:
        raise InvalidInput(f"{path}: unknown tables {', '.join(sorted(unknown))}")
    return document


def _require_empty(uow: Any) -> None:
    for table in metadata.sorted_tables:
        if table.name in SEEDED:
            continue
        if uow.session.scalar(select(func.count()).select_from(table)):
            raise InvalidInput(
                f"the target database is not empty (table {table.name} has rows);"
                " import into a new database after `accord init`"
            )


def _from_json(table: Table, row: dict[str, Any]) -> dict[str, Any]:
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


def _reset_sequences(uow: Any) -> None:
    """PostgreSQL: move each serial id past the imported rows."""
    if uow.session.bind.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        column = table.c.get("id")
        if column is None or not column.autoincrement or not column.primary_key:
            continue
        uow.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )


def recount_tallies(uow: UnitOfWork) -> None:
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
    uow.session.execute(update(t.rounds).values(**values, **kept))
