"""The dashboard: open rounds (their tallies refreshed by htmx every few seconds; the page works
without script), actions overdue or due soon, the next meeting, the record's last entries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from accord.services.dashboard import dashboard, round_boards
from accord.web.console.pages import Pages
from accord.web.console.security import GUARDED, who

router = APIRouter(dependencies=GUARDED)
POLL_SECONDS = 5


def _pages(request: Request) -> Pages:
    return request.app.state.pages  # type: ignore[no-any-return]


@router.get("/")
def home(request: Request) -> HTMLResponse:
    current = who(request)
    board = dashboard(current.ctx)
    return _pages(request).render(
        request, "dashboard", current.user, board=board, poll=POLL_SECONDS
    )


@router.get("/fragments/rounds")
def rounds_fragment(request: Request) -> HTMLResponse:
    """The open rounds' table alone, for htmx to swap in."""
    current = who(request)
    boards = round_boards(current.ctx)
    return _pages(request).render(
        request, "_rounds", current.user, rounds=boards, poll=POLL_SECONDS
    )
