"""A round's page: recipients with their answers and mail, and the secretariat's buttons (remind
now, record an answer given by phone, close)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from accord.services.answering import record_decision
from accord.services.round_pages import round_mail, round_page
from accord.services.rounds import close_round, member_by_email
from accord.services.statement_pages import remind_now
from accord.web.console.forms import Errors, attempt, msg, or_404
from accord.web.console.pages import Pages
from accord.web.console.security import GUARDED, PREFIX, Refused, who
from statemachines.errors import AccordError, InvalidInput, NotFound

router = APIRouter(dependencies=GUARDED)


def _pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


def _view(
    request: Request,
    round_id: int,
    errors: Errors | None = None,
    status: int = 200,
    number: int = 1,
    answer: str = "",
    delivery: str = "",
    with_mail: bool = False,
    **done: object,
) -> Response:
    current = who(request)
    try:
        page = or_404(
            lambda: round_page(current.ctx, round_id, number, answer=answer, delivery=delivery)
        )
    except InvalidInput as exc:
        raise Refused(400, str(exc)) from None
    mail = round_mail(current.ctx, round_id) if with_mail else None
    return _pages(request).render(
        request,
        "round",
        current.user,
        status,
        page=page,
        mail=mail,
        errors=errors or Errors(),
        done=done,
    )


@router.get("/rounds/{round_id}")
def round_(
    request: Request,
    round_id: int,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    answer: Annotated[str, Query(max_length=16)] = "",
    delivery: Annotated[str, Query(max_length=16)] = "",
    mail: bool = False,
) -> Response:
    """One page of the recipients (RECIPIENTS_SHOWN), chosen by answer and mail state; the
    round's mail by state with `mail` (else htmx loads it from `/mail` after the page)."""
    return _view(request, round_id, number=page, answer=answer, delivery=delivery, with_mail=mail)


@router.get("/rounds/{round_id}/mail")
def mail_counts(request: Request, round_id: int) -> Response:
    """The round's mail by state, for htmx to swap into the round page."""
    current = who(request)
    mail = or_404(lambda: round_mail(current.ctx, round_id))
    return _pages(request).render(request, "_round_mail", current.user, mail=mail)


@router.post("/rounds/{round_id}/remind")
def remind(request: Request, round_id: int) -> Response:
    sent, errors = attempt("remind", lambda: remind_now(who(request).ctx, round_id))
    if errors:
        return _view(request, round_id, errors, 400)
    return _view(request, round_id, reminded=sent)


@router.post("/rounds/{round_id}/answers")
def record_answer(
    request: Request,
    round_id: int,
    email: Annotated[str, Form(max_length=320)] = "",
    decision: Annotated[str, Form(max_length=16)] = "",
    comment: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """An answer given by phone or at a meeting, recorded with the user as actor."""
    current = who(request)
    errors = Errors()
    if not email:
        errors.add("email", msg("Choose the member who answered."))
    if not decision:
        errors.add("decision", msg("Choose their answer."))
    if not errors:
        try:
            record_decision(
                current.ctx,
                round_id=round_id,
                member_id=member_by_email(current.ctx, email),
                decision=decision,
                comment=comment.strip() or None,
                channel="console",
                actor=current.user.email,
            )
            return RedirectResponse(f"{PREFIX}/rounds/{round_id}", 303)
        except NotFound as exc:
            errors.add("email", str(exc))
        except AccordError as exc:
            errors.add("decision", str(exc))
    return _view(request, round_id, errors, 400)


@router.post("/rounds/{round_id}/close")
def close(request: Request, round_id: int) -> Response:
    _closed, errors = attempt("close", lambda: close_round(who(request).ctx, round_id))
    if errors:
        return _view(request, round_id, errors, 400)
    return RedirectResponse(f"{PREFIX}/rounds/{round_id}", 303)
