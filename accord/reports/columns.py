"""Which column of a table holds what: by its header's words (English and French) or, for a table
without a header, by what its cells hold.

A table is an action table when one column reads as the action and at least one other as a
timeframe or a responsible body. Other columns are kept: a status column, and notes (comments,
management response, tracking, any other named column).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from accord.reports.items import Row
from statemachines.timeframes import read_timeframe

ACTION, TIMEFRAME, RESPONSIBLE, STATUS, NOTE, NUMBER = (
    "action",
    "timeframe",
    "responsible",
    "status",
    "note",
    "number",
)
# Header words, accents and punctuation taken out, in the order they are tried: "Action status"
# is a status and "Responsible for the action" a body.
_MEANINGS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (meaning, re.compile(pattern))
    for meaning, pattern in (
        (NUMBER, r"^(?:no|n|nr|num|number|numero|ref|item|s no|sr no|sl no|id)$"),
        (STATUS, r"\b(?:status|statut|etat|state|etat d avancement|avancement)\b"),
        (
            RESPONSIBLE,
            r"\b(?:responsib\w*|lead|leads|owner|owners|who|assigned to|assignee|focal points?"
            r"|accountable|responsable\w*|pilote|porteur|qui|charge\w* de|point focal"
            r"|entite\w* responsable\w*|by whom|actor|actors|acteurs?)\b",
        ),
        (
            TIMEFRAME,
            r"\b(?:time ?frames?|time ?lines?|deadlines?|due|due dates?|target dates?|by when|when"
            r"|completion dates?|dates?|calendrier|echeances?|echeancier|delais?|date limite"
            r"|quand|pour quand|date butoir|periode|horizon|timing)\b",
        ),
        (
            ACTION,
            r"\b(?:actions?|decisions?|tasks?|recommendations?|mesures?|taches?|what|activit(?:y|ies)"
            r"|activites?|follow up|next steps?|suites? a donner)\b",
        ),
    )
)
_PREFERRED_ACTION = re.compile(r"\baction")
MAX_HEADER = 40  # longer cells are content, not a header
_BARE_ACTION = re.compile(
    r"(?:agreed |key |follow up )?(?:actions?|decisions?|tasks?)(?: s)?"
    r"(?: for implementation| agreed| convenues?)?"
)


@dataclass(frozen=True)
class Columns:
    """Column indexes of an action table; `notes`: (index, header) of the columns kept as notes."""

    action: int
    timeframe: int | None
    responsible: int | None
    status: int | None
    notes: tuple[tuple[int, str], ...]
    width: int  # how many columns the header names


def normalised(cell: str) -> str:
    """Lower case, no accents, words only: 'Échéance (date)' is 'echeance date'."""
    decomposed = unicodedata.normalize("NFKD", cell.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


@lru_cache(maxsize=4096)
def meaning(cell: str) -> str | None:
    """What a header cell names (ACTION, TIMEFRAME, ...), or None (asked of every row's cells:
    reports repeat theirs, hence the cache)."""
    text = cell.strip()
    if text in {"#", "№", "N°", "Nº"}:
        return NUMBER
    if len(text) > MAX_HEADER:
        return None
    words = normalised(text)
    if not words or words.count(" ") >= 5:
        return None
    return next((name for name, pattern in _MEANINGS if pattern.search(words)), None)


def header_columns(row: Row) -> Columns | None:
    """The columns a header row names, if it is an action table's header."""
    meanings = [meaning(cell) for cell in row]
    actions = [i for i, name in enumerate(meanings) if name == ACTION]
    if not actions:
        return None
    action = next((i for i in actions if _PREFERRED_ACTION.search(normalised(row[i]))), actions[0])
    timeframe = _first(meanings, TIMEFRAME)
    responsible = _first(meanings, RESPONSIBLE)
    if timeframe is None and responsible is None:
        others = any(cell.strip() for i, cell in enumerate(row) if i != action)
        if len(row) < 2 or others or not _BARE_ACTION.fullmatch(normalised(row[action])):
            return None
        # Only the action is named: the sample's order, timeframe then body, after it.
        after: list[int | None] = [*range(action + 1, len(row)), None, None]
        timeframe, responsible = after[0], after[1]
    taken = {action, timeframe, responsible}
    status = _first(meanings, STATUS)
    notes = tuple(
        (i, cell.strip())
        for i, cell in enumerate(row)
        if i not in taken and i != status and meanings[i] != NUMBER and cell.strip()
    )
    return Columns(action, timeframe, responsible, status, notes, len(row))


def _first(meanings: Sequence[str | None], name: str) -> int | None:
    return next((i for i, found in enumerate(meanings) if found == name), None)


def content_columns(rows: Sequence[Row]) -> Columns | None:
    """Columns of a table without a header, by their cells: the one whose cells read as dates is
    the timeframe, the longest text the action, a short one beside them the responsible body."""
    width = max((len(row) for row in rows), default=0)
    if width < 2 or len(rows) < 1:
        return None
    cells = [[row[i].strip() if i < len(row) else "" for row in rows] for i in range(width)]
    timeframe = next((i for i in range(width) if _reads_as_dates(cells[i])), None)
    if timeframe is None:
        return None
    others = [i for i in range(width) if i != timeframe and any(cells[i])]
    if not others:
        return None
    action = max(others, key=lambda i: _mean_length(cells[i]))
    if _mean_length(cells[action]) <= _mean_length(cells[timeframe]):
        return None
    short = [i for i in others if i != action and 0 < _mean_length(cells[i]) <= 60]
    responsible = short[0] if short else None
    return Columns(action, timeframe, responsible, None, (), width)


def _reads_as_dates(cells: list[str]) -> bool:
    filled = [cell for cell in cells if cell]
    read = sum(not read_timeframe(cell).unparsed for cell in filled)
    return bool(filled) and read * 10 >= len(filled) * 6


def _mean_length(cells: list[str]) -> float:
    filled = [cell for cell in cells if cell]
    return sum(map(len, filled)) / len(filled) if filled else 0.0
