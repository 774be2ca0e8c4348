"""The secretariat's console, mounted at /console in the reply app (`accord web`, `accord up`).

Staff log in (members never do: they keep their signed links). Routers per area; each route
calls services only (import-linter forbids storage and SQL here). See docs/console.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from accord.services.context import Context
from accord.services.jobs import JobRunner
from accord.web.console import (
    actions,
    auth,
    dashboard,
    jobs,
    members,
    record,
    reports,
    rounds,
    statements,
)
from accord.web.console.pages import Pages
from accord.web.console.security import PREFIX, NeedLogin, Refused
from accord.web.console.security import Keys as _Keys

STATIC = Path(__file__).parent / "static"
# The reply pages' headers, with the console's own assets allowed: scripts, styles and
# fetches from this origin only (htmx), no third-party origin, no inline script.
CONSOLE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


def create_console(ctx: Context) -> FastAPI:
    """The console app on the reply app's context (its settings and database)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.keys = _Keys.of(ctx)
    app.state.pages = Pages(ctx.settings.timezone)
    app.state.jobs = JobRunner()  # long work in a worker thread (services/jobs.py)
    routers = (
        auth.router,
        dashboard.router,
        statements.router,
        rounds.router,
        actions.router,
        reports.router,
        members.router,
        jobs.router,
        record.router,
    )
    for router in routers:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_refusals(app)
    return app


def _add_refusals(app: FastAPI) -> None:
    pages: Pages = app.state.pages

    @app.exception_handler(NeedLogin)
    def need_login(request: Request, _exc: NeedLogin) -> Response:
        return RedirectResponse(f"{PREFIX}/login", 303)

    @app.exception_handler(Refused)
    def refused(request: Request, exc: Refused) -> HTMLResponse:
        return pages.render(request, "refused", None, exc.status, reason=exc.reason)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> HTMLResponse:
        return pages.render(request, "refused", None, exc.status_code, reason=str(exc.detail))
