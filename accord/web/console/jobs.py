"""Long work started from the console (a members import, a round's start): its page shows the
state and progress, refreshed by htmx every few seconds (without script, by the page's own
refresh), then links to what it made."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from accord.services.jobs import JobRunner, read_job
from accord.web.console.pages import Pages
from accord.web.console.security import GUARDED, Refused, who
from statemachines.errors import NotFound

router = APIRouter(dependencies=GUARDED)
POLL_SECONDS = 1


def runner(request: Request) -> JobRunner:
    """The console's job runner (started and stopped with the app: accord/web/app.py)."""
    return request.app.state.jobs  # type: ignore[no-any-return]


def _view(request: Request, job_id: int, template: str) -> Response:
    current = who(request)
    try:
        job = read_job(current.ctx, job_id, runner(request))
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
    pages: Pages = request.app.state.pages
    return pages.render(request, template, current.user, job=job, poll=POLL_SECONDS)


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: int) -> Response:
    return _view(request, job_id, "job")


@router.get("/fragments/jobs/{job_id}")
def job_fragment(request: Request, job_id: int) -> Response:
    """The job's state alone, for htmx to swap in (it stops asking once the job has ended)."""
    return _view(request, job_id, "_job")
