"""A meeting report uploaded in the console: kept aside, previewed as it would be imported
(meeting, objectives, each action with the timeframe read and its bodies, rows not understood
flagged), imported only once the user confirms.

An upload is kept under ACCORD_HOME/uploads/<sha256 of its bytes>/<its file name>; its id is the
SHA-256, so uploading the same file twice keeps one copy.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from accord.reports.bodies import DEFAULT_ALIASES, DEFAULT_CITIES, split_responsible
from accord.reports.parse import parse_report
from accord.services.context import Context
from accord.services.reports import ImportResult, import_report
from statemachines.errors import InvalidInput, NotFound
from statemachines.timeframes import read_timeframe

SUFFIXES = (".txt", ".md", ".docx", ".pdf")
MAX_BYTES = 5_000_000
_ID = re.compile(r"[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class ActionPreview:
    text: str
    timeframe: str
    due: date | None
    unparsed: bool
    bodies: list[str]


@dataclass(frozen=True)
class ObjectivePreview:
    number: int
    title: str
    actions: list[ActionPreview]


@dataclass(frozen=True)
class ReportPreview:
    upload_id: str
    file_name: str
    body: str
    meeting: str
    starts_on: date
    ends_on: date
    place: str | None
    next_meeting_on: date | None
    participants: int
    objectives: list[ObjectivePreview]

    @property
    def unparsed(self) -> int:
        return sum(a.unparsed for o in self.objectives for a in o.actions)


def _folder(ctx: Context) -> Path:
    return ctx.settings.home / "uploads"


def stage_report(ctx: Context, file_name: str, data: bytes) -> ReportPreview:
    """Keep the upload and preview it; InvalidInput (nothing kept) if it cannot be read."""
    name = Path(file_name.replace("\\", "/")).name.strip()
    if Path(name).suffix.lower() not in SUFFIXES:
        raise InvalidInput(f"'{name or 'the file'}' is not a .txt, .md, .docx or .pdf report")
    if not data:
        raise InvalidInput("the file is empty")
    if len(data) > MAX_BYTES:
        raise InvalidInput("the file is over 5 MB")
    upload_id = hashlib.sha256(data).hexdigest()
    folder = _folder(ctx) / upload_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    try:
        return report_preview(ctx, upload_id)
    except InvalidInput:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _staged(ctx: Context, upload_id: str) -> Path:
    folder = _folder(ctx) / upload_id
    found = sorted(folder.iterdir()) if _ID.match(upload_id) and folder.is_dir() else []
    if not found:
        raise NotFound("this upload is gone: upload the report again")
    return found[0]


def report_preview(ctx: Context, upload_id: str) -> ReportPreview:
    path = _staged(ctx, upload_id)
    parsed = parse_report(path)
    with ctx.uow(readonly=True) as uow:
        known = {**DEFAULT_ALIASES, **uow.meetings.aliases()}
    cities = {*DEFAULT_CITIES, *(p.city for p in parsed.participants if p.city)}
    objectives = []
    for objective in parsed.objectives:
        actions = []
        for row in objective.actions:
            timeframe = read_timeframe(
                row.timeframe, reference=parsed.starts_on, next_meeting=parsed.next_meeting_on
            )
            bodies = split_responsible(row.responsible, known=known, cities=cities)
            actions.append(
                ActionPreview(
                    row.text,
                    row.timeframe,
                    timeframe.due,
                    timeframe.unparsed,
                    [known.get(b.name.casefold(), b.name) for b in bodies],
                )
            )
        objectives.append(ObjectivePreview(objective.number, objective.title, actions))
    return ReportPreview(
        upload_id=upload_id,
        file_name=path.name,
        body=parsed.body,
        meeting=parsed.meeting_name,
        starts_on=parsed.starts_on,
        ends_on=parsed.ends_on,
        place=parsed.place,
        next_meeting_on=parsed.next_meeting_on,
        participants=len(parsed.participants),
        objectives=objectives,
    )


def import_staged(ctx: Context, upload_id: str) -> ImportResult:
    """Import the upload as `accord report import` does, then forget it."""
    path = _staged(ctx, upload_id)
    result = import_report(ctx, path)
    shutil.rmtree(path.parent, ignore_errors=True)
    return result


FOLLOWUP_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class Download:
    name: str
    media_type: str
    data: bytes


def followup_download(ctx: Context, fmt: str) -> Download:
    """The follow-up report of the latest meeting, as `accord report followup` writes it."""
    import tempfile

    from accord.services.reports import followup_report

    if fmt not in FOLLOWUP_TYPES:
        raise InvalidInput(f"unknown format '{fmt}': use md, html or docx")
    name = f"followup.{fmt}"
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / name
        followup_report(ctx, fmt=fmt, output=target)
        return Download(name, FOLLOWUP_TYPES[fmt], target.read_bytes())
