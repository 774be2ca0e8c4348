"""The actions board (by objective or by state, filtered by state, body, meeting, objective,
overdue); one action with its history, the transitions its state allows (each from a form with
a note or reason) and its timeframe's text to edit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from accord.services.action_pages import VIEWS, BoardQuery, action_board, action_page
from accord.services.action_timeframes import edit_timeframe
from accord.services.actions import move_action
from accord.web.console.forms import Errors, msg
from accord.web.console.pages import Pages
from accord.web.console.security import GUARDED, PREFIX, Refused, who
from statemachines.errors import AccordError, NotFound

router = APIRouter(dependencies=GUARDED)
STATES = ("proposed", "assessed", "in_progress", "done", "dropped")
NEEDS_REASON = ("drop", "reject")


def _pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


@router.get("/actions")
def board(
    request: Request,
    view: Annotated[str, Query(max_length=16)] = "objective",
    state: Annotated[str, Query(max_length=16)] = "",
    body: Annotated[str, Query(max_length=300)] = "",
    meeting: Annotated[str, Query(max_length=12)] = "",
    objective: Annotated[str, Query(max_length=12)] = "",
    overdue: Annotated[str, Query(max_length=4)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    current = who(request)
    filters = {"view": view, "state": state, "body": body, "meeting": meeting}
    filters |= {"objective": objective, "overdue": overdue}
    errors = _board_errors(filters)
    found = None
    if not errors:
        query = BoardQuery(
            view=view,
            state=state or None,
            overdue=bool(overdue),
            body=body.strip() or None,
            meeting_id=int(meeting) if meeting else None,
            objective=int(objective) if objective else None,
            page=page,
        )
        try:
            found = action_board(current.ctx, query)
        except NotFound as exc:
            errors.add("body", str(exc))
    return _pages(request).render(
        request,
        "actions",
        current.user,
        400 if errors else 200,
        board=found,
        filters=filters,
        states=STATES,
        views=VIEWS,
        errors=errors,
    )


def _board_errors(filters: dict[str, str]) -> Errors:
    errors = Errors()
    if filters["view"] not in VIEWS:
        errors.add("view", msg("Choose a view from the list."))
    if filters["state"] and filters["state"] not in STATES:
        errors.add("state", msg("Choose a state from the list."))
    if filters["meeting"] and not filters["meeting"].isdigit():
        errors.add("meeting", msg("A meeting is given by its number."))
    if filters["objective"] and not filters["objective"].isdigit():
        errors.add("objective", msg("An objective is given by its number."))
    return errors


def _view(
    request: Request,
    action_id: int,
    errors: Errors | None = None,
    status: int = 200,
    **shown: Any,
) -> Response:
    current = who(request)
    try:
        page = action_page(current.ctx, action_id)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    return _pages(request).render(
        request,
        "action",
        current.user,
        status,
        action=page.action,
        allowed=page.allowed,
        errors=errors or Errors(),
        **shown,
    )


@router.get("/actions/{action_id}")
def action(
    request: Request, action_id: int, timeframe: Annotated[str, Query(max_length=8)] = ""
) -> Response:
    return _view(request, action_id, timeframe_saved=timeframe == "saved")


@router.post("/actions/{action_id}/move")
def move(
    request: Request,
    action_id: int,
    trigger: Annotated[str, Form(max_length=16)] = "",
    outcome: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    errors = Errors()
    if trigger in NEEDS_REASON and not reason.strip():
        errors.add(f"reason-{trigger}", msg("Give a reason."))
    if trigger == "assess" and not outcome:
        errors.add("outcome", msg("Choose the outcome of the assessment."))
    if not errors:
        try:
            move_action(
                who(request).ctx,
                action_id,
                trigger,
                note=note or None,
                outcome=outcome or None,
                reason=reason.strip() or None,
            )
            return RedirectResponse(f"{PREFIX}/actions/{action_id}", 303)
        except NotFound as exc:
            raise Refused(404, str(exc)) from None
        except AccordError as exc:
            errors.add(f"move-{trigger}", str(exc))
    return _view(request, action_id, errors, 400)


@router.post("/actions/{action_id}/timeframe")
def timeframe(
    request: Request,
    action_id: int,
    text: Annotated[str, Form(max_length=2000)] = "",
    do: Annotated[str, Form(max_length=8)] = "preview",
) -> Response:
    """Read the timeframe's text and show what it found ("preview"), or store it ("save")."""
    errors = Errors()
    try:
        edit = edit_timeframe(who(request).ctx, action_id, text, preview=do != "save")
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    except AccordError as exc:
        errors.add("timeframe", str(exc))
        return _view(request, action_id, errors, 400, timeframe_text=text)
    if edit.saved or do == "save":
        return RedirectResponse(f"{PREFIX}/actions/{action_id}?timeframe=saved", 303)
    return _view(request, action_id, timeframe_text=text, timeframe_read=edit.timeframe)
