"""The rows of one action table read as actions, and the rows that cannot be, with their place.

Row numbers count the rows under the header from 1 (a table without a header from its first
row). A row with an empty action cell under an action is one of its milestones.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from accord.reports.columns import Columns, header_columns
from accord.reports.items import Continued, Row

MAX_ACTION = 5000  # characters: a longer cell is several rows run together, not one action


@dataclass(frozen=True)
class ActionRow:
    text: str  # the agreed action
    timeframe: str  # raw timeframe cell, verbatim (stripped)
    responsible: str  # raw responsible-body cell
    # rows with an empty action cell under this one: (timeframe, responsible)
    milestones: tuple[tuple[str, str], ...] = ()
    status: str = ""  # the raw status cell, if the table has one
    notes: tuple[tuple[str, str], ...] = ()  # (column header, cell) of the other named columns
    location: str = field(default="", compare=False)  # "table 2, row 3"


@dataclass(frozen=True)
class RowProblem:
    table: int
    row: int
    reason: str
    text: str  # the row's cells, joined

    def __str__(self) -> str:
        return f"table {self.table}, row {self.row}: {self.reason}: {self.text[:80]}"


@dataclass(frozen=True)
class ReadTable:
    actions: tuple[ActionRow, ...]
    problems: tuple[RowProblem, ...]


def read_table(rows: tuple[Row, ...], columns: Columns, table: int) -> ReadTable:
    """The actions of one table (numbered `table` in the report) and the rows it could not read."""
    body = rows[1:] if header_columns(rows[0]) is not None else rows
    actions: list[ActionRow] = []
    problems: list[RowProblem] = []
    for number, row in enumerate(body, 1):
        if header_columns(row) == columns:
            continue  # the header again, as on each page of a PDF table
        problem = _problem(row, columns, has_action_above=bool(actions))
        if problem:
            problems.append(RowProblem(table, number, problem, " | ".join(c for c in row if c)))
            continue
        text = _cell(row, columns.action, as_action=True)
        timeframe, responsible = _cell(row, columns.timeframe), _cell(row, columns.responsible)
        if text:
            actions.append(_action(row, columns, text, f"table {table}, row {number}"))
        elif timeframe or responsible:
            above = actions[-1]
            actions[-1] = replace(above, milestones=(*above.milestones, (timeframe, responsible)))
    return ReadTable(tuple(actions), tuple(problems))


def _action(row: Row, columns: Columns, text: str, location: str) -> ActionRow:
    notes = tuple((header, note) for index, header in columns.notes if (note := _cell(row, index)))
    return ActionRow(
        text,
        _cell(row, columns.timeframe),
        _cell(row, columns.responsible),
        status=_cell(row, columns.status),
        notes=notes,
        location=location,
    )


def _problem(row: Row, columns: Columns, *, has_action_above: bool) -> str | None:
    """Why a row cannot be read as an action (or a milestone of the one above), if it cannot."""
    if not any(cell.strip() for cell in row):
        return None
    text = _cell(row, columns.action, as_action=True)
    dated = _cell(row, columns.timeframe) or _cell(row, columns.responsible)
    if len(text) > MAX_ACTION:
        return f"an action cell over {MAX_ACTION} characters"
    extra = [cell for cell in row[columns.width :] if cell.strip()]
    if extra:
        return f"{len(row)} cells where the header names {columns.width} columns"
    if not text and not dated:
        return "no action, timeframe or responsible body in this row"
    if not text and not has_action_above:
        return "a timeframe or body without an action above it"
    return None


def _cell(row: Row, index: int | None, *, as_action: bool = False) -> str:
    if index is None or index >= len(row):
        return ""
    cell = row[index]
    return "" if as_action and isinstance(cell, Continued) else cell.strip()
