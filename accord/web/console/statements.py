"""Statements: the list, a draft with its preview, one statement with its rounds, starting a
round (refused with the reason), revising with the diff, withdrawing and publishing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from accord.services.console_jobs import queue_round_start
from accord.services.publish import publish_statement
from accord.services.rounds import check_round_start, parse_deadline
from accord.services.statement_pages import (
    deadline_for_members,
    kinds,
    list_statements,
    revision_preview,
    statement_page,
)
from accord.services.statement_rounds import revise_statement, withdraw_statement
from accord.services.statements import draft_statement
from accord.web.console.forms import Errors, attempt, msg, or_404
from accord.web.console.jobs import runner
from accord.web.console.pages import Pages, paragraphs
from accord.web.console.security import GUARDED, PREFIX, Refused, who
from statemachines.errors import AccordError, NotFound

router = APIRouter(dependencies=GUARDED)
TEXT_LIMIT = 100_000


def lines(text: str) -> str:
    """A textarea's text with the line ends a file has (browsers send CRLF): the fingerprint of
    a text drafted in the console is the one of the same text drafted from a file."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


def _see(path: str) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}{path}", 303)


@router.get("/statements")
def statements(request: Request) -> Response:
    current = who(request)
    found = list_statements(current.ctx)
    return _pages(request).render(request, "statements", current.user, statements=found)


@router.get("/statements/new")
def new_statement(request: Request) -> Response:
    return _draft_form(request, {"title": "", "kind": "", "body": "", "political": False})


def _draft_form(
    request: Request, values: dict[str, object], errors: Errors | None = None, status: int = 200
) -> Response:
    current = who(request)
    return _pages(request).render(
        request,
        "statement_new",
        current.user,
        status,
        values=values,
        kinds=kinds(current.ctx),
        errors=errors or Errors(),
        preview=None,
    )


@router.post("/statements/new")
def draft(
    request: Request,
    title: Annotated[str, Form(max_length=500)] = "",
    kind: Annotated[str, Form(max_length=64)] = "",
    body: Annotated[str, Form(max_length=TEXT_LIMIT)] = "",
    political: Annotated[bool, Form()] = False,
    step: Annotated[str, Form(max_length=16)] = "preview",
) -> Response:
    """`preview` shows the text as members will read it; `save` drafts it."""
    current = who(request)
    body = lines(body)
    values: dict[str, object] = {"title": title, "kind": kind, "body": body, "political": political}
    errors = Errors()
    if not title.strip():
        errors.add("title", msg("Give the statement a title."))
    if kind not in kinds(current.ctx):
        errors.add("kind", msg("Choose a kind."))
    if not body.strip():
        errors.add("body", msg("Write the text of the statement."))
    if errors:
        return _draft_form(request, values, errors, 400)
    if step != "save":
        return _pages(request).render(
            request,
            "statement_new",
            current.user,
            values=values,
            kinds=kinds(current.ctx),
            errors=errors,
            preview=paragraphs(body),
        )
    try:
        drafted = draft_statement(
            current.ctx, title=title, kind=kind, body=body, political=political
        )
    except AccordError as exc:
        errors.add("form", str(exc))
        return _draft_form(request, values, errors, 400)
    return _see(f"/statements/{drafted.id}")


def _statement_view(
    request: Request,
    statement_id: int,
    errors: Errors | None = None,
    status: int = 200,
    zones: object = None,
    **values: object,
) -> Response:
    current = who(request)
    page = or_404(lambda: statement_page(current.ctx, statement_id))
    return _pages(request).render(
        request,
        "statement",
        current.user,
        status,
        page=page,
        errors=errors or Errors(),
        values={"group": "", "rule": "majority", "deadline": "", "mode": "endorse", **values},
        zones=zones,
        zone=current.ctx.settings.timezone,
    )


@router.get("/statements/{statement_id}")
def statement(request: Request, statement_id: int) -> Response:
    return _statement_view(request, statement_id)


@router.post("/statements/{statement_id}/rounds")
def start(
    request: Request,
    statement_id: int,
    group: Annotated[str, Form(max_length=200)] = "",
    rule: Annotated[str, Form(max_length=32)] = "",
    deadline: Annotated[str, Form(max_length=40)] = "",
    mode: Annotated[str, Form(max_length=16)] = "endorse",
    step: Annotated[str, Form(max_length=16)] = "start",
) -> Response:
    """`check` shows the deadline in each member's time zone; `start` circulates."""
    current = who(request)
    values = {"group": group, "rule": rule, "deadline": deadline, "mode": mode}
    errors = Errors()
    if not group:
        errors.add("group", msg("Choose a group."))
    if not deadline:
        errors.add("deadline", msg("Give a deadline."))
    if not errors:
        try:
            when = parse_deadline(deadline, current.ctx.settings.tz)
            if step == "check":
                zones = deadline_for_members(current.ctx, group, when)
                return _statement_view(request, statement_id, zones=zones, **values)
            check_round_start(
                current.ctx,
                statement_id=statement_id,
                group=group,
                rule=rule,
                deadline=when,
                mode=mode,
            )
            job_id = queue_round_start(
                current.ctx,
                runner(request),
                statement_id=statement_id,
                group=group,
                rule=rule,
                deadline=when,
                mode=mode,
                origin=f"{PREFIX}/statements/{statement_id}",
                round_link=lambda round_id: f"{PREFIX}/rounds/{round_id}",
            )
            return _see(f"/jobs/{job_id}")
        except AccordError as exc:
            errors.add("round", str(exc))
    return _statement_view(request, statement_id, errors, 400, **values)


@router.post("/statements/{statement_id}/withdraw")
def withdraw(
    request: Request,
    statement_id: int,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not reason.strip():
        errors = Errors()
        errors.add("reason", msg("Say why the statement is withdrawn."))
    else:
        ctx = who(request).ctx
        _done, errors = attempt("reason", lambda: withdraw_statement(ctx, statement_id, reason))
    if errors:
        return _statement_view(request, statement_id, errors, 400)
    return _see(f"/statements/{statement_id}")


@router.post("/statements/{statement_id}/publish")
def publish(request: Request, statement_id: int) -> Response:
    _done, errors = attempt("publish", lambda: publish_statement(who(request).ctx, statement_id))
    if errors:
        return _statement_view(request, statement_id, errors, 400)
    return _see(f"/statements/{statement_id}")


@router.get("/statements/{statement_id}/revise")
def revise_form(request: Request, statement_id: int) -> Response:
    current = who(request)
    page = or_404(lambda: statement_page(current.ctx, statement_id))
    return _revise_view(request, statement_id, page.statement.text, None, Errors())


def _revise_view(
    request: Request,
    statement_id: int,
    body: str,
    preview: object,
    errors: Errors,
    status: int = 200,
) -> Response:
    current = who(request)
    page = statement_page(current.ctx, statement_id)
    return _pages(request).render(
        request,
        "statement_revise",
        current.user,
        status,
        page=page,
        body=body,
        preview=preview,
        errors=errors,
    )


@router.post("/statements/{statement_id}/revise")
def revise(
    request: Request,
    statement_id: int,
    body: Annotated[str, Form(max_length=TEXT_LIMIT)] = "",
    step: Annotated[str, Form(max_length=16)] = "preview",
) -> Response:
    """`preview` shows the diff and the answers that would go stale; `save` revises."""
    current = who(request)
    body = lines(body)
    errors = Errors()
    try:
        preview = revision_preview(current.ctx, statement_id, body)
        if step == "save":
            revise_statement(current.ctx, statement_id, body)
            return _see(f"/statements/{statement_id}")
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    except AccordError as exc:
        errors.add("body", str(exc))
        return _revise_view(request, statement_id, body, None, errors, 400)
    return _revise_view(request, statement_id, body, preview, errors)
