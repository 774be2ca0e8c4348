"""Background jobs: long work started from the console (a members import, a round's start)
runs in a worker thread of the web app while the page that started it shows its progress.

A job's row (`jobs`, storage/jobs.py) holds its state (queued, running, done, failed), who
started it, its counts, its message and the link of what it made. The work itself is one
transaction (a round starts whole or not at all), so the progress it reports while it runs
cannot be written in a second one: a SQLite database lets one writer in at a time. The runner
keeps that live progress in memory and `read_job` adds it to the row; the row gets the final
counts when the work ends. Jobs run one at a time in the process that queued them; a process
that starts marks the jobs an earlier one left queued or running as interrupted (see
docs/console.md, "Long work").
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from accord.services.context import Context
from statemachines.errors import AccordError, Message, NotFound
from storage.jobs import DONE, FAILED, QUEUED, RUNNING, JobRow, JobStore

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the web app stopped before the job ended; start it again"
STATES = (QUEUED, RUNNING, DONE, FAILED)
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Outcome:
    """What a job's work ends with: a line for the user and the link of what it made."""

    message: str
    result: str | None = None


Work = Callable[[Progress], Outcome]


class JobRunner:
    """Runs submitted work one job at a time in a worker thread of this process."""

    def __init__(self) -> None:
        self.id = secrets.token_hex(8)  # this process's jobs, apart from a dead one's
        self._pool: ThreadPoolExecutor | None = None
        self._live: dict[int, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def start(self, ctx: Context) -> int:
        """Take work from now on; mark the jobs an earlier process left unfinished."""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-job")
        return interrupt_stale_jobs(ctx, self.id)

    def stop(self) -> None:
        """Finish the job under way; jobs still queued are left to be marked interrupted."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(
        self, ctx: Context, *, kind: str, title: str, origin: str, work: Work, total: int = 0
    ) -> int:
        """Queue `work` (run with a progress callback) as a job by `ctx.actor`, started from the
        page `origin`, of `total` steps when known before it starts; its id."""
        if self._pool is None:
            raise AccordError("the background worker is not running")
        with ctx.uow() as uow:
            job_id = JobStore(uow.connection).add(
                kind=kind,
                title=title[:300],
                origin=origin[:300],
                total=total,
                started_by=ctx.actor,
                runner=self.id,
                at=ctx.now(),
            )
            uow.commit()
        self._pool.submit(self._run, ctx, job_id, work)
        return job_id

    def _run(self, ctx: Context, job_id: int, work: Work) -> None:
        _change(ctx, job_id, state=RUNNING, started_at=ctx.now())
        try:
            outcome = work(lambda done, total: self._advance(job_id, done, total))
        except AccordError as exc:
            self._end(ctx, job_id, state=FAILED, message=_stored(exc.message))
        except Exception as exc:  # a job must end, whatever broke: the page shows it failed
            log.exception("job %s failed", job_id)
            self._end(ctx, job_id, state=FAILED, message=_stored(f"unexpected error: {exc}"))
        else:
            message = _stored(outcome.message)
            self._end(ctx, job_id, state=DONE, message=message, result=outcome.result)

    def _advance(self, job_id: int, done: int, total: int) -> None:
        with self._lock:
            self._live[job_id] = (done, total)

    def _end(self, ctx: Context, job_id: int, **values: object) -> None:
        with self._lock:
            counts = self._live.pop(job_id, None)
        if counts is not None:
            values.update(done=counts[0], total=counts[1])
        _change(ctx, job_id, finished_at=ctx.now(), **values)

    def live(self, job_id: int) -> tuple[int, int] | None:
        with self._lock:
            return self._live.get(job_id)


def _change(ctx: Context, job_id: int, **values: object) -> None:
    with ctx.uow() as uow:
        JobStore(uow.connection).change(job_id, **values)
        uow.commit()


def read_job(ctx: Context, job_id: int, runner: JobRunner | None = None) -> JobRow:
    """The job as its row holds it, with the live progress of a job `runner` is running."""
    with ctx.uow(readonly=True) as uow:
        row = JobStore(uow.connection).get(job_id)
    if row is None:
        raise NotFound(f"no job with id {job_id}")
    live = runner.live(job_id) if runner is not None and row.state == RUNNING else None
    done, total = live if live is not None else (row.done, row.total)
    return replace(row, done=done, total=total, message=_message(row.message))


def _stored(message: str) -> str:
    """A job's line as its row keeps it: a Message with values as its template and values (JSON),
    so the page can say it in the reader's language; any other text as it is."""
    params = getattr(message, "params", None)
    if not params:
        return str.__str__(message)
    template = getattr(message, "template", message)
    return json.dumps({"template": template, "params": {k: str(v) for k, v in params.items()}})


def _message(stored: str | None) -> Message | None:
    """The row's line again as a Message (its English text, its template and values)."""
    if stored is None:
        return None
    if stored.startswith('{"template"'):
        kept = json.loads(stored)
        return Message(kept["template"], **kept["params"])
    return Message(stored)


def interrupt_stale_jobs(ctx: Context, runner_id: str) -> int:
    """Jobs queued or running in another process, which has stopped: failed, as interrupted."""
    with ctx.uow() as uow:
        count = JobStore(uow.connection).interrupt_others(runner_id, INTERRUPTED, ctx.now())
        uow.commit()
    return count
