"""CSV as accord writes it: a cell a spreadsheet would run as a formula (it starts with =, +, -,
@, a tab or a carriage return) is written with a leading apostrophe, which spreadsheets show as
text; accord's own readers (`unneutralised`) take that apostrophe off again."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: object) -> str:
    text = "" if cell is None else str(cell)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def unneutralised(cell: str) -> str:
    """A cell as it was before `neutralised` (other cells unchanged)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """The rows as CSV text, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return buffer.getvalue()
