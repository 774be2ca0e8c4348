"""`accord data export|import`: every table to one JSON document and back.

It moves a whole installation between databases (SQLite to PostgreSQL) without loss: rows keep
their ids, so the decision record's hash chain and every reference survive the move.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.services.context import Context
from accord.services.setup import DEFAULT_KINDS
from statemachines.errors import InvalidInput
from storage.migrate import SCHEMA_HEAD
from storage.moves import export_tables, first_table_with_rows, import_tables, table_names

FORMAT = "accord-export"
# The schemas whose exports this accord imports: 0003 differs only by the rounds' tallies, which
# the import counts anyway; 0004 by recipients.asked_at (read as the round's creation when
# missing) and the SMTP budget (started afresh); 0004 and 0005 lack the console's tables
# (users, sessions: none are moved); before 0007 kinds had no French meaning (the built-in kinds
# get theirs, as the migration gives them).
READABLE_SCHEMAS = ("0003", "0004", "0005", "0006", "0007", SCHEMA_HEAD)


@dataclass(frozen=True)
class Moved:
    """The rows moved, by table."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def export_data(ctx: Context, path: Path) -> Moved:
    with ctx.uow(readonly=True) as uow:
        tables = export_tables(uow.connection)
    document = {"format": FORMAT, "schema": SCHEMA_HEAD, "tables": tables}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return Moved({name: len(rows) for name, rows in tables.items()})


def import_data(ctx: Context, path: Path) -> Moved:
    """Load an export into an initialised, empty database; refuse anything else unchanged.
    Each round's tally is counted from its recipients, whatever the file says."""
    document = _read(path)
    tables = {**document.get("tables", {})}
    tables["kinds"] = [_with_french(row) for row in tables.get("kinds", [])]
    with ctx.uow() as uow:
        busy = first_table_with_rows(uow.connection)
        if busy is not None:
            raise InvalidInput(
                f"the target database is not empty (table {busy} has rows);"
                " import into a new database after `accord init`"
            )
        counts = import_tables(uow.connection, tables)
        uow.commit()
    return Moved(counts)


def _with_french(kind: dict[str, Any]) -> dict[str, Any]:
    """A kind exported before schema 0007: a built-in kind whose English is still the seeded one
    gets its French meaning, as migration 0007 gives it."""
    if "meaning_fr" in kind:
        return kind
    default = DEFAULT_KINDS.get(kind.get("name", ""))
    same = default is not None and default.meaning == kind.get("meaning")
    return {**kind, "meaning_fr": default.meaning_fr if default and same else None}


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
    unknown = set(document.get("tables", {})) - table_names()
    if unknown:
        raise InvalidInput(f"{path}: unknown tables {', '.join(sorted(unknown))}")
    return document
