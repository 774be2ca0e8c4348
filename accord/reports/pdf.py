"""A PDF report as paragraphs and table rows, with pdfplumber.

Ruled tables are found by their lines; a table drawn without lines is found by its header (a line
whose cells, apart by wide gaps, name an action table's columns) and read by those columns. Text
outside tables becomes one paragraph a line; a bold or larger line is a heading. Page numbers are
left out, so a table split across pages runs on.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSException
from pdfplumber.table import Table as PdfTable
from pdfplumber.utils.exceptions import PdfminerException

from accord.reports.columns import header_columns
from accord.reports.items import Item, Paragraph, Row
from statemachines.errors import InvalidInput

_PAGE_NUMBER = re.compile(r"(?:page\s+)?\d{1,4}(?:\s*(?:/|of|sur)\s*\d{1,4})?", re.IGNORECASE)
_PDF_ERRORS = (PdfminerException, PDFSyntaxError, PSException, ValueError, KeyError, TypeError)
CELL_GAP = 1.8  # a gap this many font sizes wide separates the cells of a table drawn without lines
WORD_GAP = 0.2  # and a gap this wide separates words
ROW_GAP = 0.5  # a gap between lines this many line heights wide starts a new row of such a table
END_GAP = 2.0  # and one this wide, or a heading, ends the table
HEADING_SIZE = 1.15  # a line this much larger than the page's text is a heading


@dataclass(frozen=True)
class _Line:
    top: float
    bottom: float
    x0: float
    text: str
    chars: list[dict[str, Any]]


def pdf_items(path: Path, data: bytes) -> list[Item]:
    """Every page's items, in reading order; InvalidInput when the PDF has no text to read."""
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            items: list[Item] = []
            text_found = False
            for page in pdf.pages:
                text_found = text_found or bool(page.chars)
                items.extend(_page_items(page))
    except _PDF_ERRORS:
        raise InvalidInput(f"{path.name} is not a readable PDF file") from None
    if not text_found:
        raise InvalidInput(
            f"{path.name} has no text layer (a scanned document?): run it through OCR first"
        )
    return items


def _page_items(page: Any) -> Iterator[Item]:
    tables: list[PdfTable] = page.find_tables()
    boxes = [table.bbox for table in tables]
    outside = page.filter(lambda obj: not any(_inside(obj, box) for box in boxes))
    lines = [
        _Line(line["top"], line["bottom"], line["x0"], line["text"].strip(), line["chars"])
        for line in outside.extract_text_lines(return_chars=True)
        if line["text"].strip() and not _PAGE_NUMBER.fullmatch(line["text"].strip())
    ]
    placed: list[tuple[float, list[Item]]] = [(t.bbox[1], list(_ruled_rows(t))) for t in tables]
    placed += _text_blocks(lines, _body_size(lines))
    for _, block in sorted(placed, key=lambda pair: pair[0]):
        yield from block


def _inside(obj: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = box
    middle_x = (obj["x0"] + obj["x1"]) / 2
    middle_y = (obj["top"] + obj["bottom"]) / 2
    return x0 <= middle_x <= x1 and top <= middle_y <= bottom


def _ruled_rows(table: PdfTable) -> Iterator[Row]:
    for row in table.extract():
        yield tuple(" ".join((cell or "").split()) for cell in row)


def _body_size(lines: Sequence[_Line]) -> float:
    sizes = sorted(char["size"] for line in lines for char in line.chars)
    return sizes[len(sizes) // 2] if sizes else 0.0


def _text_blocks(lines: list[_Line], body: float) -> list[tuple[float, list[Item]]]:
    """Paragraphs, and the rows of tables drawn without lines, each placed by its top."""
    blocks: list[tuple[float, list[Item]]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        starts = _header_starts(line)
        if starts is not None:
            rows, index = _text_table(lines, index, starts)
            blocks.append((line.top, rows))
            continue
        blocks.append((line.top, [_paragraph(line, body)]))
        index += 1
    return blocks


def _is_bold(line: _Line) -> bool:
    return all("bold" in char["fontname"].lower() for char in line.chars if char["text"].strip())


def _paragraph(line: _Line, body: float) -> Paragraph:
    bold = _is_bold(line)
    large = body > 0 and max(char["size"] for char in line.chars) >= body * HEADING_SIZE
    return Paragraph(line.text, bold or large, bold or large)


def _parts(line: _Line, gap: float) -> list[tuple[float, str]]:
    """(x0, text) of the parts of a line apart by more than `gap` font sizes."""
    parts: list[tuple[float, str]] = []
    previous: dict[str, Any] | None = None
    for char in line.chars:
        space = char["x0"] - previous["x1"] if previous else 0.0
        if previous is None or space > gap * char["size"]:
            parts.append((char["x0"], char["text"]))
        else:
            x0, text = parts[-1]
            parts[-1] = (x0, text + (" " if space > 0.2 * char["size"] else "") + char["text"])
        previous = char
    return [(x0, " ".join(text.split())) for x0, text in parts]


def _header_starts(line: _Line) -> list[float] | None:
    cells = _parts(line, CELL_GAP)
    if len(cells) < 2 or header_columns(tuple(text for _, text in cells)) is None:
        return None
    return [x0 for x0, _ in cells]


def _text_table(lines: list[_Line], index: int, starts: list[float]) -> tuple[list[Item], int]:
    """The header and the rows under it, each row the lines close enough together; the table
    ends at a wide gap, a heading, or a line that starts left of its first column."""
    header = tuple(text for _, text in _parts(lines[index], CELL_GAP))
    rows: list[list[str]] = []
    height = lines[index].bottom - lines[index].top
    last_bottom = lines[index].bottom
    index += 1
    while index < len(lines):
        line = lines[index]
        gap = line.top - last_bottom
        if gap > END_GAP * height or line.x0 < starts[0] - 2 or _is_bold(line):
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
