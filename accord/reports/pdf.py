"""A PDF report as paragraphs and table rows.

Characters and ruling lines are read with pdfium (pypdfium2, which pdfplumber itself ships with:
pdfplumber's own reading, through pdfminer, took 25-30 s for a 2,000-action report here), and
ruled tables are found from the lines with pdfplumber's table finder (edges merged, their
intersections made cells, touching cells tables); each cell's text is the text pdfium finds
within it. A table drawn without lines is found by its header (a line whose cells, apart by wide
gaps, name an action table's columns) and read by those columns. Text outside tables becomes one
paragraph a line; a bold or larger line is a heading. Page numbers are left out, so a table split
across pages runs on.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.table import (
    cells_to_tables,
    edges_to_intersections,
    intersections_to_cells,
    merge_edges,
)

from accord.reports.columns import header_columns
from accord.reports.items import Item, Paragraph, Row
from statemachines.errors import InvalidInput

_PAGE_NUMBER = re.compile(r"(?:page\s+)?\d{1,4}(?:\s*(?:/|of|sur)\s*\d{1,4})?", re.IGNORECASE)
TOLERANCE = 3.0  # points: pdfplumber's default snap, join and intersection tolerance
THIN = 3.0  # a path no wider (or higher) than this is a line
CELL_GAP = 1.8  # a gap this many font sizes wide separates the cells of a table drawn without lines
WORD_GAP = 0.2  # and a gap this wide separates words
ROW_GAP = 0.5  # a gap between lines this many line heights wide starts a new row of such a table
END_GAP = 2.0  # and one this wide, or a heading, ends the table
LOOSE_HEIGHT = 1.15  # a character's loose box is about this many font sizes high
HEADING_SIZE = 1.15  # a line this much larger than the page's text is a heading


_Box = tuple[float, float, float, float]  # x0, top, x1, bottom, from the top of the page


@dataclass(slots=True)
class _Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    index: int  # in the page's text, to ask for its font when it matters
    middle: float = 0.0  # vertical

    def __post_init__(self) -> None:
        self.middle = (self.top + self.bottom) / 2


@dataclass
class _Line:
    chars: list[_Char] = field(default_factory=list)

    @property
    def top(self) -> float:
        return min(char.top for char in self.chars)

    @property
    def bottom(self) -> float:
        return max(char.bottom for char in self.chars)

    @property
    def x0(self) -> float:
        return self.chars[0].x0

    @property
    def text(self) -> str:
        return _join(self.chars)


def pdf_items(path: Path, data: bytes) -> list[Item]:
    """Every page's items, in reading order; InvalidInput when the PDF has no text to read."""
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        raise InvalidInput(f"{path.name} is not a readable PDF file") from None
    try:
        items: list[Item] = []
        text_found = False
        for index in range(len(pdf)):
            page = pdf[index]
            text_page = page.get_textpage()
            text_found = text_found or bool(text_page.get_text_range().strip())
            items.extend(_page_items(page, text_page))
    except pdfium.PdfiumError:
        raise InvalidInput(f"{path.name} is not a readable PDF file") from None
    finally:
        pdf.close()
    if not text_found:
        raise InvalidInput(
            f"{path.name} has no text layer (a scanned document?): run it through OCR first"
        )
    return items


def _chars(text_page: Any, height: float, boxes: list[_Box]) -> list[_Char]:
    """The page's characters outside the ruled tables' `boxes`, from one call for the text and
    one for each box. The font size is the box's height (ascent to descent) over `LOOSE_HEIGHT`.
    """
    count = text_page.count_chars()
    text = text_page.get_text_range(0, count) if count else ""
    box = pdfium_c.FS_RECTF()
    get_box, raw = pdfium_c.FPDFText_GetLooseCharBox, text_page.raw
    chars = []
    for index, char in enumerate(text[:count]):
        if char in "\r\n\0" or not get_box(raw, index, box):
            continue
        top, bottom = height - box.top, height - box.bottom
        middle_x, middle_y = (box.left + box.right) / 2, (top + bottom) / 2
        if any(x0 <= middle_x <= x1 and y0 <= middle_y <= y1 for x0, y0, x1, y1 in boxes):
            continue
        size = (box.top - box.bottom) / LOOSE_HEIGHT
        chars.append(_Char(char, box.left, box.right, top, bottom, size, index))
    return chars


def _page_items(page: Any, text_page: Any) -> Iterator[Item]:
    height = page.get_height()
    tables = _ruled_tables(page)
    boxes = [_bounds(cells) for cells in tables]
    placed: list[tuple[float, list[Item]]] = [
        (box[1], _table_rows(cells, text_page, height))
        for cells, box in zip(tables, boxes, strict=True)
    ]
    lines = [
        line
        for line in _lines(_chars(text_page, height, boxes))
        if not _PAGE_NUMBER.fullmatch(line.text)
    ]
    placed += _text_blocks(lines, _body_size(lines), text_page)
    for _, block in sorted(placed, key=lambda pair: pair[0]):
        yield from block


# Ruled tables --------------------------------------------------------------------------------


def _ruled_tables(page: Any) -> list[list[_Box]]:
    """Cells (x0, top, x1, bottom) of each table the page's lines draw."""
    height = page.get_height()
    edges = [
        edge
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH])
        for edge in _edges(obj.get_bounds(), height)
    ]
    if not edges:
        return []
    merged = merge_edges(edges, TOLERANCE, TOLERANCE, TOLERANCE, TOLERANCE)
    long_enough = [e for e in merged if max(e["width"], e["height"]) >= TOLERANCE]
    cells = intersections_to_cells(edges_to_intersections(long_enough, TOLERANCE, TOLERANCE))
    return [table for table in cells_to_tables(cells) if len(table) > 1]


def _edges(bounds: Sequence[float], height: float) -> list[dict[str, Any]]:
    """A thin path is one line; any other path counts by its outline, as a rectangle."""
    left, bottom, right, top = bounds
    x0, x1, y0, y1 = left, right, height - top, height - bottom
    if right - left <= THIN:
        return [_edge((left + right) / 2, (left + right) / 2, y0, y1, "v")]
    if top - bottom <= THIN:
        return [_edge(x0, x1, (y0 + y1) / 2, (y0 + y1) / 2, "h")]
    return [
        _edge(x0, x1, y0, y0, "h"),
        _edge(x0, x1, y1, y1, "h"),
        _edge(x0, x0, y0, y1, "v"),
        _edge(x1, x1, y0, y1, "v"),
    ]


def _edge(x0: float, x1: float, top: float, bottom: float, orientation: str) -> dict[str, Any]:
    return {
        "x0": x0,
        "x1": x1,
        "top": top,
        "bottom": bottom,
        "width": x1 - x0,
        "height": bottom - top,
        "orientation": orientation,
        "object_type": "line",
    }


def _bounds(cells: list[_Box]) -> _Box:
    return (
        min(cell[0] for cell in cells),
        min(cell[1] for cell in cells),
        max(cell[2] for cell in cells),
        max(cell[3] for cell in cells),
    )


def _table_rows(cells: list[_Box], text_page: Any, height: float) -> list[Item]:
    """The table's rows of cell texts by column; a cell spanning columns counts in its first.

    Each cell's text is pdfium's, read within the cell's box, its lines joined."""
    columns = sorted({cell[0] for cell in cells})
    tops = sorted({cell[1] for cell in cells})
    grid = [[""] * len(columns) for _ in tops]
    for x0, top, x1, bottom in cells:
        text = text_page.get_text_bounded(
            left=x0, bottom=height - bottom, right=x1, top=height - top
        )
        grid[tops.index(top)][columns.index(x0)] = " ".join(text.split())
    return [tuple(row) for row in grid]


# Lines, paragraphs and tables drawn without lines -------------------------------------------


def _lines(chars: list[_Char]) -> list[_Line]:
    """Characters gathered into lines by their vertical middle, each line left to right."""
    lines: list[_Line] = []
    middle = -1e9
    for char in sorted(chars, key=lambda c: (c.middle, c.x0)):
        if lines and abs(char.middle - middle) <= 0.35 * max(char.size, 1.0):
            lines[-1].chars.append(char)
        else:
            lines.append(_Line([char]))
            middle = char.middle
    for line in lines:
        line.chars.sort(key=lambda c: c.x0)
    return [line for line in lines if line.text]


def _join(chars: list[_Char]) -> str:
    text: list[str] = []
    previous: _Char | None = None
    for char in chars:
        if previous and char.x0 - previous.x1 > WORD_GAP * char.size and previous.text != " ":
            text.append(" ")
        text.append(char.text)
        previous = char
    return " ".join("".join(text).split())


def _body_size(lines: Sequence[_Line]) -> float:
    sizes = sorted(char.size for line in lines for char in line.chars)
    return sizes[len(sizes) // 2] if sizes else 0.0


def _font_name(text_page: Any, char: _Char) -> str:
    buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    pdfium_c.FPDFText_GetFontInfo(text_page.raw, char.index, buffer, 128, ctypes.byref(flags))
    return buffer.value.decode("latin-1", "replace")


def _is_bold(line: _Line, text_page: Any) -> bool:
    letters = [char for char in line.chars if char.text.strip()]
    return bool(letters) and all(
        "bold" in _font_name(text_page, char).lower() for char in (letters[0], letters[-1])
    )


def _text_blocks(lines: list[_Line], body: float, text_page: Any) -> list[tuple[float, list[Item]]]:
    """Paragraphs, and the rows of tables drawn without lines, each placed by its top."""
    blocks: list[tuple[float, list[Item]]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        starts = _header_starts(line)
        if starts is not None:
            rows, index = _text_table(lines, index, starts, text_page)
            blocks.append((line.top, rows))
            continue
        bold = _is_bold(line, text_page)
        large = body > 0 and max(char.size for char in line.chars) >= body * HEADING_SIZE
        blocks.append((line.top, [Paragraph(line.text, bold or large, bold or large)]))
        index += 1
    return blocks


def _parts(line: _Line, gap: float) -> list[tuple[float, str]]:
    """(x0, text) of the parts of a line apart by more than `gap` font sizes."""
    parts: list[tuple[float, list[_Char]]] = []
    previous: _Char | None = None
    for char in line.chars:
        if previous is None or char.x0 - previous.x1 > gap * char.size:
            parts.append((char.x0, [char]))
        else:
            parts[-1][1].append(char)
        previous = char
    return [(x0, text) for x0, chars in parts if (text := _join(chars))]


def _header_starts(line: _Line) -> list[float] | None:
    cells = _parts(line, CELL_GAP)
    if len(cells) < 2 or header_columns(tuple(text for _, text in cells)) is None:
        return None
    return [x0 for x0, _ in cells]


def _text_table(
    lines: list[_Line], index: int, starts: list[float], text_page: Any
) -> tuple[list[Item], int]:
    """The header and the rows under it, each row the lines close enough together; the table
    ends at a wide gap, a heading, or a line that starts left of its first column."""
    header: Row = tuple(text for _, text in _parts(lines[index], CELL_GAP))
    rows: list[list[str]] = []
    height = lines[index].bottom - lines[index].top
    last_bottom = lines[index].bottom
    index += 1
    while index < len(lines):
        line = lines[index]
        gap = line.top - last_bottom
        if gap > END_GAP * height or line.x0 < starts[0] - 2 or _is_bold(line, text_page):
            break
        cells = _by_column(line, starts)
        if not rows or gap > ROW_GAP * height:
            rows.append(cells)
        else:
            rows[-1] = [" ".join(filter(None, pair)) for pair in zip(rows[-1], cells, strict=True)]
        last_bottom = line.bottom
        index += 1
    return [header, *(tuple(row) for row in rows)], index


def _by_column(line: _Line, starts: list[float]) -> list[str]:
    texts = [""] * len(starts)
    for x0, text in _parts(line, WORD_GAP):
        column = max((i for i, start in enumerate(starts) if start <= x0 + 2), default=0)
        texts[column] = f"{texts[column]} {text}".strip()
    return texts
