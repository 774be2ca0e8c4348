"""Members (search, pages, a CSV upload checked row by row), groups (what each accepts) and the
kinds of statement (what endorsing each means)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from accord.services.console_jobs import queue_member_import
from accord.services.groups import (
    BadKind,
    configure_group,
    list_groups,
    list_kinds,
    set_kind,
)
from accord.services.member_files import BadRows
from accord.services.member_pages import MAX_CSV_BYTES, check_member_upload, member_page
from accord.web.console.forms import Errors, msg
from accord.web.console.jobs import runner
from accord.web.console.pages import Pages
from accord.web.console.security import GUARDED, PREFIX, who
from statemachines.errors import AccordError, NotFound

router = APIRouter(dependencies=GUARDED)


def _pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


def _members_view(
    request: Request,
    search: str = "",
    group: str = "",
    page: int = 1,
    errors: Errors | None = None,
    status: int = 200,
    **extra: object,
) -> Response:
    current = who(request)
    errors = errors or Errors()
    found = None
    try:
        found = member_page(current.ctx, search=search, group=group or None, page=page)
    except NotFound as exc:
        errors.add("group", str(exc))
        status = 400
    return _pages(request).render(
        request,
        "members",
        current.user,
        status,
        found=found,
        filters={"search": search, "group": group},
        groups=list_groups(current.ctx),
        errors=errors,
        problems=extra.get("problems", []),
    )


@router.get("/members")
def members(
    request: Request,
    search: Annotated[str, Query(max_length=200)] = "",
    group: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return _members_view(request, search, group, page)


@router.post("/members/upload")
async def upload(
    request: Request, members_file: Annotated[UploadFile | None, File()] = None
) -> Response:
    if members_file is None or not members_file.filename:
        return await run_in_threadpool(_import_members, request, "", b"")
    data = await members_file.read(MAX_CSV_BYTES + 1)
    return await run_in_threadpool(_import_members, request, members_file.filename, data)


def _import_members(request: Request, filename: str, data: bytes) -> Response:
    """Check every row now (database-free, run in a worker thread); import in a background job
    and send the user to its page."""
    errors = Errors()
    if not filename:
        errors.add("members_file", msg("Choose a members file (.csv)."))
        return _members_view(request, errors=errors, status=400)
    current = who(request)
    try:
        upload = check_member_upload(filename, data, current.ctx.settings.timezone)
        job_id = queue_member_import(
            current.ctx,
            runner(request),
            upload,
            origin=f"{PREFIX}/members",
            result=f"{PREFIX}/members",
        )
    except BadRows as exc:
        errors.add("members_file", msg("Nothing was imported: every bad row is listed below."))
        return _members_view(request, errors=errors, status=400, problems=exc.problems)
    except AccordError as exc:
        errors.add("members_file", str(exc))
        return _members_view(request, errors=errors, status=400)
    return RedirectResponse(f"{PREFIX}/jobs/{job_id}", 303)


@router.get("/groups")
def groups(request: Request) -> Response:
    return _groups_view(request)


def _groups_view(request: Request, errors: Errors | None = None, status: int = 200) -> Response:
    current = who(request)
    return _pages(request).render(
        request,
        "groups",
        current.user,
        status,
        groups=list_groups(current.ctx),
        kinds=list_kinds(current.ctx),
        errors=errors or Errors(),
    )


@router.post("/groups/configure")
async def configure(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    political: Annotated[bool, Form()] = False,
) -> Response:
    """Accepted kinds are the boxes ticked (`accepts`); political statements if ticked."""
    form = await request.form()
    accepted = {str(kind) for kind in form.getlist("accepts")}
    return await run_in_threadpool(_configure_group, request, name, political, accepted)


def _configure_group(request: Request, name: str, political: bool, accepted: set[str]) -> Response:
    """Store a group's settings and answer (database work: run in a worker thread)."""
    try:
        refused = sorted({kind.name for kind in list_kinds(who(request).ctx)} - accepted)
        configure_group(who(request).ctx, name, accepts_political=political, refused_kinds=refused)
    except AccordError as exc:
        errors = Errors()
        errors.add(f"group-{name}", str(exc))
        return _groups_view(request, errors, 400)
    return RedirectResponse(f"{PREFIX}/groups", 303)


@router.post("/kinds")
def kinds(
    request: Request,
    name: Annotated[str, Form(max_length=64)] = "",
    meaning: Annotated[str, Form(max_length=2000)] = "",
    meaning_fr: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Both meanings of a kind; an empty French one means French members read the English."""
    errors = Errors()
    field = name or "new"
    if not meaning.strip():
        errors.add(f"meaning-{field}", msg("Say what endorsing this kind means."))
        return _groups_view(request, errors, 400)
    try:
        set_kind(who(request).ctx, name, meaning, meaning_fr)
    except BadKind as exc:
        wrong = "meaning-fr" if exc.field == "meaning_fr" else "meaning"
        errors.add(f"{wrong}-{field}", str(exc))
        return _groups_view(request, errors, 400)
    except AccordError as exc:
        errors.add(f"meaning-{field}", str(exc))
        return _groups_view(request, errors, 400)
    return RedirectResponse(f"{PREFIX}/groups", 303)
