"""The console's guards: the session cookie, the CSRF token, roles, and the page language.

- Session: cookie `accord_session` holds the session token signed with the secret key (salt
  `console-session`): HttpOnly, SameSite=Lax, Secure when ACCORD_PUBLIC_URL is https, path
  `/console`. The services decide whether the session still holds (12 h, 2 h idle).
- CSRF, signed double submit: cookie `accord_csrf` holds a random value (HttpOnly,
  SameSite=Strict); every form carries that value signed with the secret key (salt
  `console-csrf`). A POST whose field does not sign the cookie's value is refused (403).
- Roles: every POST of a protected router needs the `secretariat` role (403 otherwise), except
  the few that touch only the user's own session or preference (`OWN_ACCOUNT`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, Signer
from starlette.concurrency import run_in_threadpool

from accord.services.console_auth import ConsoleUser, session_user
from accord.services.context import Context

SESSION_COOKIE = "accord_session"
CSRF_COOKIE = "accord_csrf"
CSRF_FIELD = "csrf_token"
PREFIX = "/console"
LANGUAGES = ("en", "fr")
# POSTs a viewer may make: they change only their own session or preference.
OWN_ACCOUNT = frozenset({f"{PREFIX}/logout", f"{PREFIX}/language"})


class Refused(Exception):
    """A console request refused with `status` and a reason (shown on the refusal page)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class NeedLogin(Exception):
    """A page asked for without a session: the login page, then back to it."""


@dataclass(frozen=True)
class Keys:
    """The signers of the console's cookies and whether cookies need HTTPS."""

    session: Signer
    csrf: Signer
    secure: bool

    @classmethod
    def of(cls, ctx: Context) -> Keys:
        key = ctx.settings.resolve_secret_key()
        return cls(
            Signer(key, salt="console-session"),
            Signer(key, salt="console-csrf"),
            ctx.settings.public_url.startswith("https://"),
        )

    def cookie_options(self) -> dict[str, Any]:
        return {"httponly": True, "secure": self.secure, "path": PREFIX}

    def session_token(self, request: Request) -> str:
        signed = request.cookies.get(SESSION_COOKIE, "")
        try:
            return self.session.unsign(signed).decode() if signed else ""
        except BadSignature:
            return ""

    def csrf_value(self, request: Request) -> str:
        """The cookie's random value, or a new one that `render` sets on the response."""
        value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", "")
        if not value:
            value = request.state.new_csrf = secrets.token_urlsafe(24)
        return str(value)

    def form_token(self, request: Request) -> str:
        return self.csrf.sign(self.csrf_value(request)).decode()

    async def check_csrf(self, request: Request) -> None:
        if request.method != "POST":
            return
        cookie = request.cookies.get(CSRF_COOKIE, "")
        try:
            field = str((await request.form()).get(CSRF_FIELD, ""))
            good = bool(cookie) and self.csrf.unsign(field).decode() == cookie
        except (BadSignature, UnicodeDecodeError):
            good = False
        if not good:
            raise Refused(403, "the form was out of date or not sent from this console")


@dataclass(frozen=True)
class Who:
    """A request's user, and the service context that acts as them on the `console` channel."""

    user: ConsoleUser
    ctx: Context


def keys(request: Request) -> Keys:
    return request.app.state.keys  # type: ignore[no-any-return]


async def public_guard(request: Request) -> None:
    """Pages without a session (login, set password): CSRF on POST only."""
    await keys(request).check_csrf(request)


async def guard(request: Request) -> None:
    """Every protected route: a live session; on POST the role, then the CSRF token."""
    base: Context = request.app.state.ctx
    # a database read (and the idle clock's write): in a worker thread, never on the loop
    user = await run_in_threadpool(session_user, base, keys(request).session_token(request))
    if user is None:
        if request.method == "POST":
            raise Refused(403, "you are not logged in")
        raise NeedLogin
    if request.method == "POST" and not user.can_change and request.url.path not in OWN_ACCOUNT:
        raise Refused(403, "your account can view the console but not change anything")
    await keys(request).check_csrf(request)
    request.state.who = Who(user, acting_as(base, user.email))


def acting_as(base: Context, email: str) -> Context:
    """The services' context for a console user: their email as actor, channel `console`."""
    return Context(base.settings, email, "console", _db=base.db)


def who(request: Request) -> Who:
    """The guarded request's user (set by `guard`)."""
    found: Who = request.state.who
    return found


GUARDED = [Depends(guard)]
PUBLIC = [Depends(public_guard)]


def language(request: Request, user: ConsoleUser | None) -> str:
    """The user's choice, else the browser's first language the console speaks, else English."""
    if user is not None and user.language in LANGUAGES:
        return user.language
    return browser_language(request.headers.get("accept-language", ""))


def browser_language(header: str) -> str:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()[:2]))
    for _, _, tag in sorted(ranked):
        if tag in LANGUAGES:
            return tag
    return "en"
