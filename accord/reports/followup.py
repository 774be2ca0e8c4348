"""The follow-up report of a meeting: its actions grouped by objective, as Markdown, HTML or Word.

Built from the actions as services show them (`ActionView`), so it knows nothing of the
database. Markdown and
HTML come from the Jinja2 templates `templates/followup.md.j2` and `followup.html.j2` (HTML is
autoescaped); Word is written with python-docx.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import docx
from docx.document import Document
from docx.shared import RGBColor

if TYPE_CHECKING:
    from accord.services.actions import ActionView
    from accord.services.reports import MeetingView
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from statemachines.errors import InvalidInput

FORMATS = ("md", "html", "docx")
COLUMNS = ("#", "Action", "Timeframe", "Due", "Responsible", "State", "Last note")
OVERDUE = "OVERDUE"


@dataclass(frozen=True)
class Row:
    action_id: int
    text: str
    timeframe: str
    due: str  # YYYY-MM-DD, "ongoing" or ""
    milestones: tuple[str, ...]  # "YYYY-MM-DD: what", in order
    responsible: str  # "Bradford, Stavanger, ICC Secretariat (support)"
    state: str  # "assessed (accepted)", "dropped: no budget", ...
    last_note: str
    overdue: bool


@dataclass(frozen=True)
class Section:
    number: int  # 0: the actions of a report without sections
    title: str
    rows: tuple[Row, ...]

    @property
    def heading(self) -> str:
        return f"Objective {self.number} – {self.title}" if self.number else "Actions"


@dataclass(frozen=True)
class FollowUp:
    title: str
    date: str
    place: str | None
    next_meeting: str | None
    as_of: str
    sections: tuple[Section, ...]

    @property
    def total(self) -> int:
        return sum(len(section.rows) for section in self.sections)

    @property
    def overdue(self) -> int:
        return sum(row.overdue for section in self.sections for row in section.rows)

    @property
    def facts(self) -> str:
        held = f"Meeting of {self.date}" + (f", {self.place}" if self.place else "")
        upcoming = f"; next meeting {self.next_meeting}" if self.next_meeting else ""
        return (
            f"{held}{upcoming}. Status on {self.as_of}: {self.total} actions, "
            f"{self.overdue} overdue."
        )


def build_followup(meeting: MeetingView, actions: Sequence[ActionView], as_of: date) -> FollowUp:
    """Group `actions` by objective number, keeping their order within each objective."""
    sections: dict[int, tuple[str, list[Row]]] = {}
    for action in actions:
        objective = action.objective
        sections.setdefault(objective.number, (objective.title, []))[1].append(_row(action))
    return FollowUp(
        title=meeting.title,
        date=meeting.date,
        place=meeting.place,
        next_meeting=meeting.next_meeting,
        as_of=as_of.isoformat(),
        sections=tuple(
            Section(number, title, tuple(rows))
            for number, (title, rows) in sorted(sections.items())
        ),
    )


def _row(action: ActionView) -> Row:
    timeframe = action.timeframe
    return Row(
        action_id=action.id,
        text=action.text,
        timeframe=timeframe.raw,
        due=timeframe.due or ("ongoing" if timeframe.ongoing else ""),
        milestones=tuple(f"{m.due or 'no date'}: {m.text}" for m in timeframe.milestones),
        responsible=", ".join(
            r.name + (" (support)" if r.role == "support" else "") for r in action.responsible
        ),
        state=_state(action),
        last_note=action.last_note or "",
        overdue=action.overdue,
    )


def _state(action: ActionView) -> str:
    state = action.state.replace("_", " ")
    if action.state == "dropped" and action.drop_reason:
        return f"{state}: {action.drop_reason}"
    if action.assessment and action.state in ("assessed", "in_progress"):
        return f"{state} ({action.assessment.replace('_', ' ')})"
    return state


def write_followup(report: FollowUp, fmt: str, output: Path | None) -> str | None:
    """Markdown or HTML text (returned, or written to `output`), or a Word file at `output`."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format '{fmt}' (use {', '.join(FORMATS)})")
    if fmt == "docx":
        if output is None:
            raise InvalidInput("a docx follow-up needs --output FILE")
        _save(output, lambda: _docx(report).save(str(output)))
        return None
    text = _templates().get_template(f"followup.{fmt}.j2").render(report=report, overdue=OVERDUE)
    if output is None:
        return text
    _save(output, lambda: output.write_text(text, encoding="utf-8"))
    return None


def _save(output: Path, write: Callable[[], object]) -> None:
    try:
        write()
    except OSError as exc:
        raise InvalidInput(f"cannot write {output}: {exc.strerror or exc}") from None


@cache
def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(files("templates"))),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = _markdown_cell
    return env


def _markdown_cell(text: object) -> str:
    """One Markdown table cell: on one line, with its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _docx(report: FollowUp) -> Document:
    document = docx.Document()
    document.add_heading(f"Follow-up: {report.title}", level=1)
    document.add_paragraph(report.facts)
    for section in report.sections:
        document.add_heading(section.heading, level=2)
        table = document.add_table(rows=1, cols=len(COLUMNS))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, COLUMNS, strict=True):
            cell.paragraphs[0].add_run(name).bold = True
        for row in section.rows:
            cells = table.add_row().cells
            timeframe = "\n".join([row.timeframe, *row.milestones])
            texts = (
                str(row.action_id),
                row.text,
                timeframe,
                row.due,
                row.responsible,
                row.state,
                row.last_note,
            )
            for cell, text in zip(cells, texts, strict=True):
                cell.text = text
            if row.overdue:
                mark = cells[COLUMNS.index("State")].paragraphs[0].add_run(f" {OVERDUE}")
                mark.bold = True
                mark.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    return document
