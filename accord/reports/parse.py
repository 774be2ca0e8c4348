"""Read a meeting report (.txt, .md or .docx): its header, objectives, agreed actions, participants.

Pure: no database, and timeframes stay raw text (interpreting them is someone else's job).
Every format is first turned into one stream of paragraphs and table rows, read by one set of
rules.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import docx
from docx.document import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from accord.reports.bodies import DEFAULT_CITIES
from statemachines.errors import InvalidInput
from statemachines.timeframes import MONTHS


@dataclass(frozen=True)
class ActionRow:
    text: str  # the agreed action
    timeframe: str  # raw timeframe cell, verbatim (stripped)
    responsible: str  # raw responsible-body cell
    # rows with an empty action cell under this one: (timeframe, responsible)
    milestones: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Objective:
    number: int
    title: str  # without "Objective N –" and without a trailing "."
    actions: tuple[ActionRow, ...]


@dataclass(frozen=True)
class Participant:
    name: str
    role: str | None
    organisation: str | None
    city: str | None
    country: str | None
    section: str  # the "...:" line above, e.g. "Advisory Group members"; "" when there is none


@dataclass(frozen=True)
class ParsedReport:
    body: str  # the body that met
    title: str  # "<body> – <meeting name> – <kind of report>"
    meeting_name: str
    starts_on: date
    ends_on: date
    place: str | None
    next_meeting_on: date | None
    objectives: tuple[Objective, ...]
    participants: tuple[Participant, ...]


@dataclass(frozen=True)
class _Paragraph:
    text: str
    emphasised: bool  # a heading or a bold line: where "Objective N – title" may stand


_Row = tuple[str, ...]


@dataclass(frozen=True)
class _Table:
    rows: tuple[_Row, ...]


_DATE = r"(?P<{0}d>\d{{1,2}})\s+(?P<{0}m>[^\W\d_]+)\.?,?\s+(?P<{0}y>\d{{4}})"
_DATE_LINE = re.compile(
    r"(?:(?P<d1>\d{1,2})(?:\s+(?P<m1>[^\W\d_]+)\.?(?:\s+(?P<y1>\d{4}))?)?\s*[-–—]\s*)?"
    + _DATE.format("end_")
    + r"(?:\s*[-–—,]\s*(?P<place>\S.*?))?\s*"
)
_NEXT_MEETING = re.compile(
    r"\b(?:next|following|second|third|\d+(?:st|nd|rd|th))\s+(?:[\w-]+\s+){0,3}?meeting\s*\(\s*"
    + _DATE.format(""),
    re.IGNORECASE,
)
_BODY_DASH_MEETING = re.compile(r"(.+)\s+[-–—]\s+(.*\bmeeting\b.*)", re.IGNORECASE)
_OBJECTIVE = re.compile(r"Objective\s+(\d+)\s*[-–—]\s*(.+?)[\s.]*", re.IGNORECASE)
_ACTION_HEADER = re.compile(r"agreed\s+(?:follow[- ]up\s+)?actions?\b", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-*+•❖▪◦●·]\s+)+")
_BOLD = re.compile(r"\*\*([^*]+)\*\*|__([^_]+)__")
_MD_HEADING = re.compile(r"#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*")
_MD_DELIMITER = re.compile(r"\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_PARTICIPANTS = re.compile(r"\blist\s+of\s+participants\b", re.IGNORECASE)
_APPENDIX = re.compile(r"appendix\b", re.IGNORECASE)
_CITY_OF = re.compile(r"(?:the\s+)?(?:city|municipality|town)\s+of\s+(.+)", re.IGNORECASE)
_STATE = re.compile(r"(.+?)\s+(?:state|canton)", re.IGNORECASE)
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
_KNOWN_CITIES = frozenset(city.casefold() for city in DEFAULT_CITIES)


def parse_report(path: Path) -> ParsedReport:
    """Parse a report file, choosing the reader by its suffix (.txt, .md or .docx)."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return parse_docx(path)
    if suffix == ".txt":
        return parse_text(_read_text(path), source=path.name)
    if suffix == ".md":
        return parse_markdown(_read_text(path), source=path.name)
    raise InvalidInput(f"cannot read {path.name}: expected a .txt, .md or .docx file")


def parse_text(text: str, *, source: str = "the text") -> ParsedReport:
    """A plain-text report: one paragraph a line, tab-separated table rows, **bold** headings."""
    return _build(_text_items(text), source)


def parse_markdown(text: str, *, source: str = "the text") -> ParsedReport:
    """A Markdown report: `#` headings or bold lines, and pipe tables."""
    return _build(_markdown_items(text), source)


def parse_docx(path: Path) -> ParsedReport:
    """A Word report: its paragraphs and tables in document order."""
    data = _read_bytes(path)
    try:
        items = list(_docx_items(docx.Document(io.BytesIO(data))))
    except _DOCX_ERRORS:
        raise InvalidInput(f"{path.name} is not a readable .docx file") from None
    return _build(items, path.name)


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if not data.strip():
        raise InvalidInput(f"{path.name} is empty")
    return data


def _read_text(path: Path) -> str:
    data = _read_bytes(path)
    if b"\0" in data:
        raise InvalidInput(f"{path.name} is a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name} is not UTF-8 text") from None


def _text_items(text: str) -> Iterator[_Paragraph | _Row]:
    for line in text.splitlines():
        if "\t" in line:
            yield tuple(cell.strip() for cell in line.split("\t"))
        else:
            yield _paragraph(line, heading=False)


def _markdown_items(text: str) -> Iterator[_Paragraph | _Row]:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            if not _MD_DELIMITER.fullmatch(stripped):
                yield _pipe_cells(stripped)
        elif heading := _MD_HEADING.fullmatch(stripped):
            yield _markdown_paragraph(heading[1] or "", heading=True)
        else:
            yield _markdown_paragraph(stripped, heading=False)


def _markdown_paragraph(line: str, *, heading: bool) -> _Paragraph:
    paragraph = _paragraph(line, heading=heading)
    return replace(paragraph, text=_MD_ESCAPE.sub(r"\1", paragraph.text))


def _pipe_cells(line: str) -> _Row:
    inner = line[1:]
    if inner.endswith("|") and not inner.endswith("\\|"):
        inner = inner[:-1]
    return tuple(_MD_ESCAPE.sub(r"\1", cell.strip()) for cell in re.split(r"(?<!\\)\|", inner))


def _docx_items(document: Document) -> Iterator[_Paragraph | _Row]:
    """Paragraphs, one per line break, and table rows in document order.

    Any paragraph may hold an objective heading: Word styles are too loosely used to tell.
    """
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            yield from _docx_rows(block)
        else:
            yield from (_paragraph(line, heading=True) for line in block.text.splitlines())


def _docx_rows(table: Table) -> Iterator[_Row]:
    """Cell texts by grid column; a merged cell counts once, in its first row and column.

    A vertically merged action cell is thus empty below its first row, which makes the rows
    under it milestones, as in the text form.
    """
    above: list[object] = []
    for row in table.rows:
        cells = row.cells
        elements: list[object] = [cell._tc for cell in cells]
        texts = [
            "" if element in above or element in elements[:index] else cell.text.strip()
            for index, (cell, element) in enumerate(zip(cells, elements, strict=True))
        ]
        above = elements
        yield ("",) * row.grid_cols_before + tuple(texts)


def _paragraph(line: str, *, heading: bool) -> _Paragraph:
    """A cleaned paragraph: without list bullets, and unwrapped from **bold** (which emphasises)."""
    text = _BULLET.sub("", line.strip())
    bold = _BOLD.fullmatch(text)
    if bold:
        text = (bold[1] or bold[2]).strip()
    return _Paragraph(text, heading or bold is not None)


def _build(items: Iterable[_Paragraph | _Row], source: str) -> ParsedReport:
    blocks = list(_blocks(items))
    objectives = _objectives(blocks, source)
    if not objectives:
        raise InvalidInput(f"no table of agreed actions found in {source}")
    paragraphs = [block.text for block in blocks if isinstance(block, _Paragraph)]
    index, date_line = _date_line(paragraphs, source)
    starts_on, ends_on = _meeting_dates(date_line, source)
    body, meeting_name = _body_and_meeting(paragraphs[:index], source)
    return ParsedReport(
        body=body,
        title=_title(body, meeting_name, paragraphs[index + 1 : index + 2]),
        meeting_name=meeting_name,
        starts_on=starts_on,
        ends_on=ends_on,
        place=date_line["place"],
        next_meeting_on=_next_meeting(blocks, ends_on),
        objectives=objectives,
        participants=_participants(paragraphs),
    )


def _blocks(items: Iterable[_Paragraph | _Row]) -> Iterator[_Paragraph | _Table]:
    """Group rows into tables: a table runs on over blank lines until a paragraph.

    A header row starts a new table, so two tables with only blank lines between stay apart.
    """
    rows: list[_Row] = []
    for item in items:
        if isinstance(item, _Paragraph) and not item.text:
            continue
        if rows and (isinstance(item, _Paragraph) or _is_action_header(item)):
            yield _Table(tuple(rows))
            rows = []
        if isinstance(item, _Paragraph):
            yield item
        else:
            rows.append(item)
    if rows:
        yield _Table(tuple(rows))


def _is_action_header(row: _Row) -> bool:
    return bool(row) and _ACTION_HEADER.match(row[0]) is not None


def _objectives(blocks: list[_Paragraph | _Table], source: str) -> tuple[Objective, ...]:
    """Objectives with their actions, in order; one whose number comes again gets its actions."""
    heading: tuple[int, str] | None = None
    found: dict[int, Objective] = {}
    for block in blocks:
        if isinstance(block, _Paragraph):
            heading = _objective_heading(block) or heading
            continue
        if not _is_action_header(block.rows[0]):
            continue
        if heading is None:
            raise InvalidInput(f"a table of agreed actions in {source} comes before any objective")
        actions = _actions(block.rows, source)
        number, title = heading
        earlier = found.get(number, Objective(number, title, ()))
        if actions:
            found[number] = replace(earlier, actions=earlier.actions + actions)
    return tuple(found.values())


def _objective_heading(paragraph: _Paragraph) -> tuple[int, str] | None:
    match = _OBJECTIVE.fullmatch(paragraph.text) if paragraph.emphasised else None
    return (int(match[1]), match[2]) if match else None


def _actions(rows: tuple[_Row, ...], source: str) -> tuple[ActionRow, ...]:
    """The rows under the header; one with an empty action cell is a milestone of the one above."""
    header, *body = rows
    when = _column(header, ("time", "deadline"), default=1)
    who = _column(header, ("responsib",), default=2)
    actions: list[ActionRow] = []
    for row in body:
        text, timeframe, responsible = _cell(row, 0), _cell(row, when), _cell(row, who)
        if text:
            actions.append(ActionRow(text, timeframe, responsible))
        elif timeframe or responsible:
            if not actions:
                raise InvalidInput(f"a row of agreed actions in {source} has no action above it")
            above = actions[-1]
            actions[-1] = replace(above, milestones=(*above.milestones, (timeframe, responsible)))
    return tuple(actions)


def _column(header: _Row, words: tuple[str, ...], *, default: int) -> int:
    matches = (i for i, cell in enumerate(header) if any(w in cell.lower() for w in words))
    return next(matches, default)


def _cell(row: _Row, index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _date_line(paragraphs: list[str], source: str) -> tuple[int, re.Match[str]]:
    """The first paragraph that is the meeting's date, maybe with its place: '4-5 July 2023 – X'."""
    for index, text in enumerate(paragraphs):
        match = _DATE_LINE.fullmatch(text)
        if match and _month(match["end_m"]) and (not match["m1"] or _month(match["m1"])):
            return index, match
    raise InvalidInput(f"no meeting date (like '4-5 July 2023 – Strasbourg') found in {source}")


def _meeting_dates(match: re.Match[str], source: str) -> tuple[date, date]:
    try:
        ends_on = _date(match, "end_")
        starts_on = date(
            int(match["y1"] or match["end_y"]),
            _month(match["m1"] or match["end_m"]),
            int(match["d1"] or match["end_d"]),
        )
    except ValueError as exc:
        raise InvalidInput(f"the meeting date in {source} is not a valid date: {exc}") from None
    if starts_on > ends_on:
        raise InvalidInput(f"the meeting in {source} ends before it starts")
    return starts_on, ends_on


def _date(match: re.Match[str], prefix: str) -> date:
    """The date in `_DATE` groups; ValueError when it does not exist (31 February)."""
    month = _month(match[f"{prefix}m"])
    return date(int(match[f"{prefix}y"]), month, int(match[f"{prefix}d"]))


def _month(name: str) -> int:
    return MONTHS.get(name.lower(), 0)


def _body_and_meeting(above: list[str], source: str) -> tuple[str, str]:
    """The body and the meeting's name above its date: two lines, or 'Body – First meeting'."""
    if above and (match := _BODY_DASH_MEETING.fullmatch(above[-1])):
        return match[1].strip(), match[2].strip()
    if len(above) >= 2:
        return above[-2], above[-1]
    raise InvalidInput(f"no body and meeting name above the meeting date in {source}")


def _title(body: str, meeting_name: str, below: list[str]) -> str:
    kind = [text for text in below if "report" in text.lower()]
    return " – ".join([body, meeting_name, *kind])


def _next_meeting(blocks: list[_Paragraph | _Table], ends_on: date) -> date | None:
    """The first date given for a later meeting: 'by next meeting (13 November 2023)'."""
    for text in _texts(blocks):
        for match in _NEXT_MEETING.finditer(text):
            try:
                found = _date(match, "")
            except ValueError:
                continue
            if found > ends_on:
                return found
    return None


def _texts(blocks: list[_Paragraph | _Table]) -> Iterator[str]:
    for block in blocks:
        if isinstance(block, _Paragraph):
            yield block.text
        else:
            yield from (cell for row in block.rows for cell in row)


def _participants(paragraphs: list[str]) -> tuple[Participant, ...]:
    """One per paragraph after 'List of participants' up to the next appendix, in sections."""
    start = next((i for i, text in enumerate(paragraphs) if _PARTICIPANTS.search(text)), None)
    if start is None:
        return ()
    section = ""
    found: list[Participant] = []
    for text in paragraphs[start + 1 :]:
        if _APPENDIX.match(text):
            break
        if text.endswith(":"):
            section = text[:-1].strip()
        elif participant := _participant(text, section):
            found.append(participant)
    return tuple(found)


def _participant(text: str, section: str) -> Participant | None:
    """'Name, role, organisation, City of X, Country'; only the name is always there.

    A place is recognised only by its city ('City of X', 'X state' or a known city), and the
    part after the city is the country.
    """
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        return None
    name, *rest = parts
    city: str | None = None
    country: str | None = None
    if len(rest) >= 2 and (found := _city(rest[-2])):
        city, country, rest = found, rest[-1], rest[:-2]
    elif rest and (found := _city(rest[-1])):
        city, rest = found, rest[:-1]
    size = _role_size(rest)
    role, organisation = ", ".join(rest[:size]), ", ".join(rest[size:])
    return Participant(name, role or None, organisation or None, city, country, section)


def _city(part: str) -> str | None:
    for pattern in (_CITY_OF, _STATE):
        if match := pattern.fullmatch(part):
            return match[1]
    return part if part.casefold() in _KNOWN_CITIES else None


def _role_size(parts: list[str]) -> int:
    """How many comma parts the role takes: one, unless it opens a list the next parts close.

    'Head of department of Gender Equality, Development Cooperation, Cultural Diversity and Human
    Rights' is one role: '... of A', then plain items, then a last one with 'and'.
    """
    if not parts or " of " not in parts[0] or " and " in parts[0]:
        return min(len(parts), 1)
    closing = next((i for i, part in enumerate(parts) if " and " in part), 0)
    return closing + 1 if closing >= 2 else 1
