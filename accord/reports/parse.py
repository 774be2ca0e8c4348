"""Read a meeting report (.txt, .md, .docx or .pdf): its header, sections, actions, participants.

Pure: no database, and timeframes stay raw text (interpreting them is someone else's job).
Every format is first turned into one stream of paragraphs and table rows (accord.reports.items),
read by one set of rules: action tables are found by what their columns mean
(accord.reports.columns), the meeting and the sections by the usual layouts
(accord.reports.layout). A row of an action table that cannot be read as an action is kept as a
problem with its place, never dropped.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import docx
from docx.document import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from accord.reports.actions import ActionRow, RowProblem, read_table
from accord.reports.columns import Columns, content_columns, header_columns
from accord.reports.items import Continued, Item, Paragraph, Row, Table
from accord.reports.layout import meeting_header, next_meeting, section
from accord.reports.participants import Participant, participants
from statemachines.errors import InvalidInput

__all__ = ["ActionRow", "Objective", "ParsedReport", "Participant", "RowProblem", "parse_report"]


@dataclass(frozen=True)
class Objective:
    number: int  # 0: the actions of a report without sections
    title: str  # without "Objective N –" and without a trailing "."
    actions: tuple[ActionRow, ...]


@dataclass(frozen=True)
class ParsedReport:
    body: str  # the body that met
    title: str  # "<body> – <meeting name> – <kind of report>"
    meeting_name: str
    starts_on: date | None  # None: the report does not say (`--meeting-date` must)
    ends_on: date | None
    place: str | None
    next_meeting_on: date | None
    objectives: tuple[Objective, ...]
    participants: tuple[Participant, ...]
    problems: tuple[RowProblem, ...] = field(default=(), compare=False)


_BULLET = re.compile(r"^(?:[-*+•❖▪◦●·]\s+)+")
_BOLD = re.compile(r"\*\*([^*]+)\*\*|__([^_]+)__")
_MD_HEADING = re.compile(r"#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*")
_MD_DELIMITER = re.compile(r"\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# What python-docx raises on a broken package (zip, XML, parts) or an odd document structure;
# lxml's XMLSyntaxError is a SyntaxError.
_DOCX_ERRORS = (
    PackageNotFoundError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    AttributeError,
    SyntaxError,
)


def parse_report(path: Path) -> ParsedReport:
    """Parse a report file, choosing the reader by its suffix (.txt, .md, .docx or .pdf)."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return parse_docx(path)
    if suffix == ".pdf":
        from accord.reports.pdf import pdf_items  # pdfplumber is slow to import

        return build(pdf_items(path, read_bytes(path)), path.name)
    if suffix == ".txt":
        return parse_text(_read_text(path), source=path.name)
    if suffix == ".md":
        return parse_markdown(_read_text(path), source=path.name)
    raise InvalidInput(f"cannot read {path.name}: expected a .txt, .md, .docx or .pdf file")


def parse_text(text: str, *, source: str = "the text") -> ParsedReport:
    """A plain-text report: one paragraph a line, tab-separated table rows, **bold** headings."""
    return build(_text_items(text), source)


def parse_markdown(text: str, *, source: str = "the text") -> ParsedReport:
    """A Markdown report: `#` headings or bold lines, and pipe tables."""
    return build(_markdown_items(text), source)


def parse_docx(path: Path) -> ParsedReport:
    """A Word report: its paragraphs and tables in document order."""
    data = read_bytes(path)
    try:
        items = list(_docx_items(docx.Document(io.BytesIO(data))))
    except _DOCX_ERRORS:
        raise InvalidInput(f"{path.name} is not a readable .docx file") from None
    return build(items, path.name)


def read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if not data.strip():
        raise InvalidInput(f"{path.name} is empty")
    return data


def _read_text(path: Path) -> str:
    data = read_bytes(path)
    if b"\0" in data:
        raise InvalidInput(f"{path.name} is a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name} is not UTF-8 text") from None


def _text_items(text: str) -> Iterator[Item]:
    for line in text.splitlines():
        if "\t" in line:
            yield tuple(cell.strip() for cell in line.split("\t"))
        else:
            yield paragraph(line, heading=False)


def _markdown_items(text: str) -> Iterator[Item]:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            if not _MD_DELIMITER.fullmatch(stripped):
                yield _pipe_cells(stripped)
        elif heading := _MD_HEADING.fullmatch(stripped):
            yield _markdown_paragraph(heading[1] or "", heading=True)
        else:
            yield _markdown_paragraph(stripped, heading=False)


def _markdown_paragraph(line: str, *, heading: bool) -> Paragraph:
    found = paragraph(line, heading=heading)
    return replace(found, text=_MD_ESCAPE.sub(r"\1", found.text))


def _pipe_cells(line: str) -> Row:
    inner = line[1:]
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    return tuple(_MD_ESCAPE.sub(r"\1", cell.strip()) for cell in re.split(r"(?<!\\)\|", inner))


def _docx_items(document: Document) -> Iterator[Item]:
    """Paragraphs, one per line break, and table rows in document order.

    Any paragraph may hold an objective heading: Word styles are too loosely used to tell. Other
    headings are those styled as headings or wholly bold.
    """
    for block in document.iter_inner_content():
        if isinstance(block, DocxTable):
            yield from _docx_rows(block)
        else:
            heading = _docx_heading(block)
            for line in block.text.splitlines():
                yield replace(paragraph(line, heading=True), heading=heading)


def _docx_heading(block: DocxParagraph) -> bool:
    style = (block.style.name if block.style is not None else "") or ""
    if style.lower().startswith(("heading", "title", "titre")):
        return True
    runs = [run for run in block.runs if run.text.strip()]
    return bool(runs) and all(run.bold for run in runs)


def _docx_rows(table: DocxTable) -> Iterator[Row]:
    """Cell texts by grid column; a horizontally merged cell counts once, in its first column.

    A vertically merged cell is `Continued` below its first row: an action cell is thus empty
    there, which makes the rows under it milestones, and a merged body or timeframe applies to
    every row it spans.
    """
    above: list[object] = []
    for row in table.rows:
        cells = row.cells
        elements: list[object] = [cell._tc for cell in cells]
        texts: list[str] = []
        for index, (cell, element) in enumerate(zip(cells, elements, strict=True)):
            if element in elements[:index]:
                texts.append("")
            elif element in above:
                texts.append(Continued(cell.text.strip()))
            else:
                texts.append(cell.text.strip())
        above = elements
        yield ("",) * row.grid_cols_before + tuple(texts)


def paragraph(line: str, *, heading: bool) -> Paragraph:
    """A cleaned paragraph: without list bullets, and unwrapped from **bold** (which emphasises)."""
    text = _BULLET.sub("", line.strip())
    bold = _BOLD.fullmatch(text)
    if bold:
        text = (bold[1] or bold[2]).strip()
    return Paragraph(text, heading or bold is not None, heading or bold is not None)


def build(items: Iterable[Item], source: str) -> ParsedReport:
    blocks = list(_blocks(items))
    paragraphs = [block.text for block in blocks if isinstance(block, Paragraph)]
    objectives, problems = _objectives(blocks, paragraphs[:1], source)
    header = meeting_header(paragraphs, source)
    return ParsedReport(
        body=header.body,
        title=header.title,
        meeting_name=header.meeting_name,
        starts_on=header.starts_on,
        ends_on=header.ends_on,
        place=header.place,
        next_meeting_on=next_meeting(list(_texts(blocks)), header.ends_on),
        objectives=objectives,
        participants=participants(paragraphs),
        problems=problems,
    )


def _blocks(items: Iterable[Item]) -> Iterator[Paragraph | Table]:
    """Group rows into tables: a table runs on over blank lines until a paragraph.

    An action table's header row starts a new table, so two tables with only blank lines between
    stay apart, unless it repeats the header of the table it follows (a table over pages).
    """
    rows: list[Row] = []
    for item in items:
        if isinstance(item, Paragraph) and not item.text:
            continue
        if rows and item == rows[0]:
            continue  # the header again, as on each page a PDF table runs over
        if rows and (isinstance(item, Paragraph) or header_columns(item) is not None):
            yield Table(tuple(rows))
            rows = []
        if isinstance(item, Paragraph):
            yield item
        else:
            rows.append(item)
    if rows:
        yield Table(tuple(rows))


def _objectives(
    blocks: list[Paragraph | Table], title: list[str], source: str
) -> tuple[tuple[Objective, ...], tuple[RowProblem, ...]]:
    """Sections with their actions, in order; a section whose number comes again gets its actions.

    Only the preferred kind of section counts ("Objective N" lines, else numbered headings, else
    other headings), and never the title.
    """
    headings = _headings(blocks, title)
    action_tables = _action_tables(blocks, headings)
    if not action_tables:
        raise InvalidInput(f"no table of agreed actions found in {source}")
    found: dict[int, Objective] = {}
    problems: list[RowProblem] = []
    for number, (index, block, columns) in enumerate(action_tables, 1):
        read = read_table(block.rows, columns, number)
        problems.extend(read.problems)
        section_number, section_title = _section_for(headings, index)
        earlier = found.get(section_number, Objective(section_number, section_title, ()))
        found[section_number] = replace(earlier, actions=earlier.actions + read.actions)
    kept = tuple(objective for objective in found.values() if objective.actions)
    return kept, tuple(problems)


def _action_tables(
    blocks: list[Paragraph | Table], headings: list[tuple[int, int, str]]
) -> list[tuple[int, Table, Columns]]:
    """(block index, table, columns) of the action tables. A table without a header after an
    action table of the same width, in the same section, goes on with that table's columns (a
    table over pages, a footer line between): its rows are read, never left out unseen."""
    found: list[tuple[int, Table, Columns]] = []
    for index, block in enumerate(blocks):
        if not isinstance(block, Table):
            continue
        columns = header_columns(block.rows[0]) or _continued(found, block, index, headings)
        columns = columns or content_columns(block.rows)
        if columns is not None:
            found.append((index, block, columns))
    return found


def _continued(
    found: list[tuple[int, Table, Columns]],
    block: Table,
    index: int,
    headings: list[tuple[int, int, str]],
) -> Columns | None:
    if not found:
        return None
    before, _, columns = found[-1]
    same_section = not any(before < at < index for at, _, _ in headings)
    same_width = max(len(row) for row in block.rows) == columns.width
    return columns if same_section and same_width else None


def _headings(blocks: list[Paragraph | Table], title: list[str]) -> list[tuple[int, int, str]]:
    """(block index, number, title) of the sections of the preferred kind."""
    found = [
        (index, heading)
        for index, block in enumerate(blocks)
        if isinstance(block, Paragraph)
        and block.text not in title
        and (heading := section(block)) is not None
    ]
    if not found:
        return []
    rank = min(heading.rank for _, heading in found)
    kept = [(index, heading) for index, heading in found if heading.rank == rank]
    return [
        (index, heading.number if heading.number is not None else order, heading.title)
        for order, (index, heading) in enumerate(kept, 1)
    ]


def _section_for(headings: list[tuple[int, int, str]], index: int) -> tuple[int, str]:
    above = [(number, title) for at, number, title in headings if at < index]
    return above[-1] if above else (0, "")


def _texts(blocks: list[Paragraph | Table]) -> Iterator[str]:
    for block in blocks:
        if isinstance(block, Paragraph):
            yield block.text
        else:
            yield from (cell for row in block.rows for cell in row)
