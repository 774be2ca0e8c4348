"""Log in, log out, set a password from a one-time link, choose the console's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from accord.services.console_auth import LockedOut, LoginRefused, log_in, log_out, session_user
from accord.services.context import Context
from accord.services.users import password_link_user, set_language, set_password_by_link
from accord.web.console.forms import Errors, msg
from accord.web.console.pages import Pages, with_csrf_cookie
from accord.web.console.security import (
    GUARDED,
    PREFIX,
    PUBLIC,
    SESSION_COOKIE,
    Refused,
    acting_as,
    keys,
    who,
)
from statemachines.errors import InvalidInput, NotFound

public = APIRouter(dependencies=PUBLIC)
own = APIRouter(dependencies=GUARDED)
router = APIRouter()


def _pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


def _ctx(request: Request) -> Context:
    return request.app.state.ctx  # type: ignore[no-any-return]


@public.get("/login")
def login_page(request: Request) -> Response:
    if session_user(_ctx(request), keys(request).session_token(request)):
        return RedirectResponse(f"{PREFIX}/", 303)
    return _pages(request).render(request, "login", None, email="", errors=Errors())


@public.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    errors = Errors()
    if not email.strip():
        errors.add("email", msg("Enter your email address."))
    if not password:
        errors.add("password", msg("Enter your password."))
    address = request.client.host if request.client else "unknown"
    if not errors:
        try:
            done = log_in(_ctx(request), email, password, address)
        except LockedOut:
            errors.add("form", msg("Too many failed logins: try again in 15 minutes."))
            status = 429
        except LoginRefused:
            errors.add("password", msg("Wrong email or password."))
            status = 401
        else:
            response = RedirectResponse(f"{PREFIX}/", 303)
            signed = keys(request).session.sign(done.token).decode()
            options = keys(request).cookie_options()
            response.set_cookie(SESSION_COOKIE, signed, samesite="lax", **options)
            return with_csrf_cookie(request, response)
    else:
        status = 400
    return _pages(request).render(request, "login", None, status, email=email, errors=errors)


@own.post("/logout")
def logout(request: Request) -> Response:
    log_out(_ctx(request), keys(request).session_token(request))
    response = RedirectResponse(f"{PREFIX}/login", 303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@own.post("/language")
def choose_language(
    request: Request,
    language: Annotated[str, Form(max_length=8)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        set_language(who(request).ctx, who(request).user.id, language)
    except InvalidInput as exc:
        raise Refused(400, str(exc)) from None
    target = back if back.startswith(f"{PREFIX}/") and "//" not in back else f"{PREFIX}/"
    return RedirectResponse(target, 303)


@public.get("/password/{token}")
def password_page(request: Request, token: str) -> Response:
    try:
        user = password_link_user(_ctx(request), token)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    return _pages(request).render(request, "password", None, owner=user, errors=Errors())


@public.post("/password/{token}")
def set_password(
    request: Request,
    token: str,
    password: Annotated[str, Form(max_length=2048)] = "",
    again: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    try:
        owner = password_link_user(_ctx(request), token)
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    errors = Errors()
    if password != again:
        errors.add("again", msg("The two passwords differ."))
    else:
        try:
            set_password_by_link(acting_as(_ctx(request), owner.email), token, password)
        except InvalidInput as exc:
            errors.add("password", str(exc))
    if errors:
        return _pages(request).render(request, "password", None, 400, owner=owner, errors=errors)
    return _pages(request).render(request, "password_set", None)


router.include_router(public)
router.include_router(own)
