"""The reply app: members answer a round from the link in their mail.

GET and HEAD only show a confirmation page, because mail scanners and link previewers open links
(some even run scripts); a decision is recorded only by the POST of a button the member presses.

A refused request gets an HTML page, records nothing, and has one of these statuses:

- 400: a forged, truncated, malformed or expired link (the links service reports all of these as
  `BadLink`, and so does the page for a genuine link to a round or member that is gone)
- 404: an unknown path, or (on POST) a round or recipient that no longer exists
- 409: another answer of the same round was written at the same moment; pressing again works
- 410: the round is closed, or the text was revised after the link was sent (a stale link)
- 422: a decision that is not one of the page's buttons, a comment over the form's limit, or a
  form the page would not send (not url-encoded, over 100 kB, not UTF-8, holding NUL)
- 503: the database did not answer in time (a lock held too long); nothing was recorded

Members' links are bearer credentials: no page carries the token (the form posts back to its own
URL) and the access log shows `/r/…` instead.

No request runs blocking database work on the event loop: the routes go through one
`AnswerStore` (storage.answers), chosen once by `create_app`. On PostgreSQL it uses asynchronous
connections (`storage.aio`), whose sessions give up a lock wait or a statement after a few
seconds (the member gets 503, "please try again"); on SQLite (and a PostgreSQL URL asyncpg does
not open) a unit of work whose calls run in a worker thread, so that an answer waiting for the
write lock (a large `rounds start` in another process) holds up no other request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from http import HTTPStatus
from importlib.resources import files
from typing import Any, TypeVar
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import anyio
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException

from accord.config import Settings, load_settings
from accord.services.answering import (
    CommentTooLong,
    RoundClosed,
    StaleText,
    answer_by_link,
    reply_page,
)
from accord.services.context import Context
from accord.services.courier import AnswerCourier
from accord.services.jobs import JobRunner
from accord.services.links import BadLink, ExpiredLink
from accord.web.calendar import calendar_router
from accord.web.console import create_console
from accord.web.console.security import PREFIX as CONSOLE_PREFIX
from accord.web.headers import HIDE_LINKS, SecurityHeaders, headers_for
from accord.web.site import SiteFiles
from statemachines.answers import ALL_DECISIONS, COMMENT_LIMIT
from statemachines.errors import AccordError, Conflict, InvalidInput, NotFound
from storage.answers import (
    SESSION_LIMITS,
    AnswerStore,
    AsyncpgAnswerStore,
    DatabaseBusy,
    Runner,
    SyncAnswerStore,
)
from storage.plain import postgresql_uri
from storage.uow import Database

T = TypeVar("T")
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 100_000  # a comment of COMMENT_LIMIT characters, percent-encoded


class BadForm(InvalidInput):
    """A POST that the page's form would never send."""


# (status, heading, reason shown instead of the error's own message, or None to show it)
REFUSALS: list[tuple[type[AccordError], int, str, str | None]] = [
    (RoundClosed, 410, "This round is closed", None),
    (StaleText, 410, "This link is out of date", None),
    (ExpiredLink, 410, "This link has expired", None),
    (BadLink, 400, "This link does not work", None),
    (NotFound, 404, "This link does not work", "this link is not valid"),
    (BadForm, 422, "That answer was not understood", None),
    (CommentTooLong, 422, "That comment is too long", None),
    (
        InvalidInput,
        422,
        "That answer was not understood",
        "please go back and press one of the buttons on the page",
    ),
    (Conflict, 409, "Please try again", "another answer was being recorded at the same moment"),
    (
        DatabaseBusy,
        503,
        "Please try again",
        "the answer could not be recorded just now, and nothing was recorded: "
        "please press the button again in a moment",
    ),
]


# What the page's form posts (read by `read_answer_form`, so FastAPI cannot describe it itself).
ANSWER_FORM_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_TYPE: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "decision": {
                            "type": "string",
                            "enum": list(ALL_DECISIONS),
                        },
                        "comment": {"type": "string", "maxLength": COMMENT_LIMIT},
                    },
                    "required": ["decision"],
                }
            }
        },
    }
}


def _refusal_responses() -> dict[int | str, dict[str, Any]]:
    """The refusal pages of REFUSALS as OpenAPI responses: HTML, headings joined by status."""
    headings: dict[int, list[str]] = {}
    for _kind, status, heading, _reason in REFUSALS:
        if heading not in headings.setdefault(status, []):
            headings[status].append(heading)
    html = {"text/html": {"schema": {"type": "string"}}}
    return {s: {"description": "; ".join(h), "content": html} for s, h in headings.items()}


@lru_cache(maxsize=1024)
def local_time(moment: datetime | str, zone: str) -> str:
    """A moment as the member reads it: `2023-10-11 11:00 (Europe/Paris, UTC+0200)`. Kept: every
    page of a round shows its deadline in the member's and the secretariat's zone."""
    when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    local = when.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} ({zone}, UTC{local:%z})"


class Pages:
    """The app's HTML pages, autoescaped, from templates/web."""

    def __init__(self) -> None:
        folder = str(files("templates") / "web")
        self.env = Environment(
            loader=FileSystemLoader(folder),
            autoescape=True,
            undefined=StrictUndefined,
            auto_reload=False,  # compiled once: no stat of the template files per request
        )
        self.env.filters["local"] = local_time
        self.env.globals["comment_limit"] = COMMENT_LIMIT  # the form's maxlength

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(f"{name}.html.j2").render(**context), status)

    def refused(self, status: int, heading: str, reason: str) -> HTMLResponse:
        return self.render("refused", status, heading=heading, reason=reason)


@dataclass(frozen=True)
class AnswerForm:
    decision: str
    comment: str


async def read_answer_form(request: Request) -> AnswerForm:
    """The page's two fields, read strictly. Browsers send this form url-encoded in UTF-8;
    Starlette's own parser would turn anything else into mangled text that gets recorded."""
    if request.headers.get("content-type", "").partition(";")[0].strip() != FORM_TYPE:
        raise BadForm("the answer must be sent with the buttons on the page")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise BadForm(
                f"the answer is too long: a comment holds at most {COMMENT_LIMIT:,} characters"
            )
    try:
        fields = parse_qs(body.decode("ascii"), encoding="utf-8", errors="strict")
    except UnicodeError:
        raise BadForm("the answer is not valid UTF-8 text") from None
    decision, comment = (fields.get(name, [""])[0] for name in ("decision", "comment"))
    if "\x00" in decision + comment:  # never typed by a person; PostgreSQL text cannot hold it
        raise BadForm("the answer holds a NUL character")
    return AnswerForm(decision, comment)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The reply app on `settings` (read from the environment when not given, as when uvicorn
    calls it as a factory); uvicorn's access log then shows no member's token."""
    settings = settings or load_settings()
    logging.getLogger("uvicorn.access").addFilter(HIDE_LINKS)
    ctx = Context(settings, channel="link", _db=app_database(settings.db_url))
    store = answer_store(ctx)
    site = settings.home / "site"
    courier = AnswerCourier(ctx)  # receipts leave seconds after the answer (services/courier.py)
    console = create_console(ctx)
    jobs: JobRunner = console.state.jobs

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        site.mkdir(parents=True, exist_ok=True)  # before the first publication it is empty
        await store.open()
        await courier.start()
        await asyncio.to_thread(jobs.start, ctx)
        try:
            yield
        finally:
            await asyncio.to_thread(jobs.stop)
            await courier.stop()
            await store.close()

    app = FastAPI(
        title="accord reply app",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",  # the routes' templates and the form only: no token, no key
    )
    pages = Pages()
    app.add_middleware(SecurityHeaders)
    _add_error_pages(app, pages)
    _add_link_routes(app, ctx, store, pages, courier)
    _add_health(app, store)
    app.include_router(calendar_router(ctx))
    app.mount("/site", SiteFiles(directory=site, check_dir=False), name="site")
    app.mount(CONSOLE_PREFIX, console, name="console")
    if settings.env == "development" and settings.uses_dev_mailbox:
        from accord.mail.devmailbox import mailbox_folder
        from accord.web.mailbox import mailbox_router

        app.include_router(mailbox_router(mailbox_folder(settings), settings.smtp_address))
    return app


def app_database(url: str) -> Database | None:
    """The app's SQLAlchemy database, its PostgreSQL sessions limited as asyncpg's are; None on
    a PostgreSQL URL that asyncpg opens (made on first use, if anything asks for it)."""
    if postgresql_uri(url) is not None:
        return None
    if url.startswith("postgresql"):
        options = " ".join(f"-c {name}={value}" for name, value in SESSION_LIMITS.items())
        return Database(url, connect_args={"options": options})
    return Database(url)


def answer_store(ctx: Context) -> AnswerStore:
    """The app's one store: asyncpg for a PostgreSQL URL it opens, else the context's unit of
    work, its calls run in worker threads: one for reads and one for answers on SQLite (one
    writer at a time anyway, and more threads cost more CPU an answer than they saved:
    bench/RESULTS.md, answers), a few each on PostgreSQL."""
    if postgresql_uri(ctx.settings.db_url) is not None:
        return AsyncpgAnswerStore(ctx.settings.db_url)
    threads = 1 if ctx.db.url.startswith("sqlite") else 4
    reads, writes = in_worker_threads(threads), in_worker_threads(threads)
    return SyncAnswerStore(ctx.db, reads=reads, writes=writes)


def in_worker_threads(threads: int) -> Runner:
    """Runs blocking work in at most `threads` worker threads at a time (the others wait on the
    loop, holding no thread and no connection)."""
    limiter = anyio.CapacityLimiter(threads)

    async def run(work: Callable[[], T]) -> T:
        return await anyio.to_thread.run_sync(work, limiter=limiter)

    return run


def _add_link_routes(
    app: FastAPI, ctx: Context, store: AnswerStore, pages: Pages, courier: AnswerCourier
) -> None:
    refusals = _refusal_responses()

    @app.get("/r/{token}", response_class=HTMLResponse, responses=refusals)
    @app.head(
        "/r/{token}",
        response_class=HTMLResponse,
        responses=refusals,
        operation_id="confirmation_r__token__head",
    )
    async def confirmation(token: str) -> HTMLResponse:
        """The page a member's link opens; shows, never records."""
        return pages.render("reply", **vars(await reply_page(ctx, store, token)))

    @app.post(
        "/r/{token}",
        response_class=HTMLResponse,
        responses=refusals,
        openapi_extra=ANSWER_FORM_OPENAPI,
    )
    async def answer(token: str, request: Request) -> HTMLResponse:
        """Record the pressed button (a refusal is the one the GET would show)."""
        form = await read_answer_form(request)
        recorded = await answer_by_link(ctx, store, token, form.decision, form.comment)
        page = pages.render("recorded", **vars(recorded))
        page.background = BackgroundTask(courier.wake)  # once the page is sent: the receipt
        return page


def _add_health(app: FastAPI, store: AnswerStore) -> None:
    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        if not await store.healthy():
            return JSONResponse({"status": "error", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok"})


def _add_error_pages(app: FastAPI, pages: Pages) -> None:
    @app.exception_handler(AccordError)
    def refused(_request: Request, exc: AccordError) -> HTMLResponse:
        for kind, status, heading, reason in REFUSALS:
            if isinstance(exc, kind):
                return pages.refused(status, heading, reason or str(exc))
        return pages.refused(400, "This request cannot be handled", str(exc))

    @app.exception_handler(HTTPException)
    def http_error(_request: Request, exc: HTTPException) -> HTMLResponse:
        reason = "there is no such page" if exc.status_code == 404 else "this request is not served"
        response = pages.refused(exc.status_code, HTTPStatus(exc.status_code).phrase, reason)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(Exception)
    def crashed(request: Request, _exc: Exception) -> HTMLResponse:
        """Runs outside the middleware (Starlette's outermost layer), so it adds the headers."""
        response = pages.refused(500, "Something went wrong", "the answer could not be handled")
        response.headers.update(headers_for(request.url.path))
        return response


def server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """How a process that embeds the reply app serves it (`accord up`, the tests)."""
    return uvicorn.Config(app, host=host, port=port, server_header=False)
