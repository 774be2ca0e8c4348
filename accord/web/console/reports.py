"""Reports: upload a meeting report, check its preview, import it on confirmation; download the
follow-up report (docx, html or md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from accord.services.report_uploads import (
    MAX_BYTES,
    followup_download,
    import_staged,
    report_preview,
    stage_report,
)
from accord.web.console.forms import Errors, msg
from accord.web.console.pages import Pages
from accord.web.console.security import GUARDED, PREFIX, Refused, who
from statemachines.errors import AccordError, InvalidInput, NotFound

router = APIRouter(dependencies=GUARDED)


def _pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


def _form(request: Request, errors: Errors | None = None, status: int = 200) -> Response:
    return _pages(request).render(
        request, "reports", who(request).user, status, errors=errors or Errors()
    )


@router.get("/reports")
def reports(request: Request) -> Response:
    return _form(request)


@router.post("/reports/upload")
async def upload(request: Request, report: Annotated[UploadFile | None, File()] = None) -> Response:
    if report is None or not report.filename:
        return await run_in_threadpool(_stage, request, "", b"")
    data = await report.read(MAX_BYTES + 1)
    return await run_in_threadpool(_stage, request, report.filename, data)


def _stage(request: Request, filename: str, data: bytes) -> Response:
    """Read the upload and show its preview (database work: run in a worker thread)."""
    errors = Errors()
    if not filename:
        errors.add("report", msg("Choose a report file (.txt, .md, .docx or .pdf)."))
        return _form(request, errors, 400)
    try:
        preview = stage_report(who(request).ctx, filename, data)
    except InvalidInput as exc:
        errors.add("report", str(exc))
        return _form(request, errors, 400)
    return RedirectResponse(f"{PREFIX}/reports/uploads/{preview.upload_id}", 303)


@router.get("/reports/uploads/{upload_id}")
def preview(request: Request, upload_id: str) -> Response:
    current = who(request)
    try:
        found = report_preview(current.ctx, upload_id)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    return _pages(request).render(request, "report_preview", current.user, preview=found)


@router.post("/reports/uploads/{upload_id}/import")
def confirm(request: Request, upload_id: str) -> Response:
    try:
        result = import_staged(who(request).ctx, upload_id)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    except AccordError as exc:
        raise Refused(400, str(exc)) from None
    return RedirectResponse(f"{PREFIX}/actions?meeting={result.meeting.id}", 303)


@router.get("/reports/followup.{fmt}")
def followup(request: Request, fmt: str) -> Response:
    try:
        download = followup_download(who(request).ctx, fmt)
    except (InvalidInput, NotFound) as exc:
        raise Refused(404, str(exc)) from None
    disposition = f'attachment; filename="{download.name}"'
    return Response(
        download.data, media_type=download.media_type, headers={"Content-Disposition": disposition}
    )
