"""Background jobs (table `jobs`, migration 0008) as Core statements on a unit of work's
connection: add one, move its state and counts, read one, mark a dead process's jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from storage.tables import jobs

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True)
class JobRow:
    id: int
    kind: str
    title: str
    state: str
    done: int
    total: int
    message: str | None
    result: str | None
    origin: str | None
    started_by: str
    runner: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0


_COLUMNS = tuple(jobs.c[name] for name in JobRow.__dataclass_fields__)


class JobStore:
    """Reads and writes of `jobs` inside one transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(
        self,
        *,
        kind: str,
        title: str,
        origin: str | None,
        total: int,
        started_by: str,
        runner: str,
        at: datetime,
    ) -> int:
        values = {
            "kind": kind,
            "title": title,
            "state": QUEUED,
            "done": 0,
            "total": total,
            "origin": origin,
            "started_by": started_by,
            "runner": runner,
            "created_at": at,
        }
        result = self.connection.execute(insert(jobs).values(**values).returning(jobs.c.id))
        return int(result.scalar_one())

    def get(self, job_id: int) -> JobRow | None:
        row = self.connection.execute(select(*_COLUMNS).where(jobs.c.id == job_id)).first()
        return None if row is None else JobRow(*row)

    def change(self, job_id: int, **values: object) -> None:
        """Move a job that has not ended (one marked interrupted stays so)."""
        query = update(jobs).where(jobs.c.id == job_id, jobs.c.state.in_((QUEUED, RUNNING)))
        self.connection.execute(query.values(**values))

    def interrupt_others(self, runner: str, message: str, at: datetime) -> int:
        """Jobs left queued or running by another process (one that stopped): failed."""
        query = (
            update(jobs)
            .where(jobs.c.state.in_((QUEUED, RUNNING)), jobs.c.runner != runner)
            .values(state=FAILED, message=message, finished_at=at)
        )
        return int(self.connection.execute(query).rowcount)
