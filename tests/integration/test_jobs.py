"""Background jobs (services/jobs.py) and the progress the long services report: the members
import and a round's start tell their progress as they write, chunk by chunk, in one
transaction; a runner shows it while the job runs and keeps the final counts in the row."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from accord.services.context import Context
from accord.services.jobs import INTERRUPTED, JobRunner, Outcome, Progress, read_job
from accord.services.member_files import read_member_file
from accord.services.members import import_members, import_rows
from accord.services.rounds import start_round
from accord.services.statements import draft_statement
from tests.integration.test_rounds import DEADLINE, TEXT

HEADER = "name,email,organisation,groups,language,timezone\n"


def big_file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "big.csv"
    rows = "".join(f"M {n},m{n}@example.org,,Network,en,UTC\n" for n in range(count))
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_the_members_import_reports_its_progress_chunk_by_chunk(
    ctx: Context, tmp_path: Path
) -> None:
    path = big_file(tmp_path, 2_500)
    calls: list[tuple[int, int]] = []
    rows = read_member_file(path, "UTC")
    result = import_rows(
        ctx, rows, source="big.csv", digest="x", progress=lambda d, t: calls.append((d, t))
    )
    assert calls == [(1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]
    assert (result.created, result.updated, result.unchanged) == (2_500, 0, 0)
    again = import_members(ctx, path)  # the CLI's road: no progress asked, the same result
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2_500)


def test_a_round_start_reports_its_progress_as_it_asks_members(
    ctx: Context, tmp_path: Path
) -> None:
    import_members(ctx, big_file(tmp_path, 2_100))
    statement = draft_statement(ctx, title="T", kind="awareness-day", body=TEXT).id
    calls: list[tuple[int, int]] = []
    started = start_round(
        ctx,
        statement_id=statement,
        group="Network",
        rule="majority",
        deadline=DEADLINE,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(1_000, 2_100), (2_000, 2_100), (2_100, 2_100)]
    assert len(started.recipients) == 2_100


def test_a_runner_shows_live_progress_then_keeps_the_counts(ctx: Context) -> None:
    runner = JobRunner()
    runner.start(ctx)
    halfway, release = threading.Event(), threading.Event()

    def work(progress: Progress) -> Outcome:
        progress(500, 2_000)
        halfway.set()
        release.wait(10)
        progress(2_000, 2_000)
        return Outcome("all done", "/somewhere")

    job_id = runner.submit(ctx, kind="test", title="a test", origin="/from", work=work)
    assert halfway.wait(10)
    running = read_job(ctx, job_id, runner)
    assert (running.state, running.done, running.total, running.percent) == (
        "running",
        500,
        2_000,
        25,
    )
    release.set()
    runner.stop()
    done = read_job(ctx, job_id)
    assert (done.state, done.done, done.total, done.message, done.result) == (
        "done",
        2_000,
        2_000,
        "all done",
        "/somewhere",
    )
    assert done.started_by == ctx.actor and done.finished_at is not None


def test_a_failed_job_says_why_and_a_restart_marks_unfinished_jobs_interrupted(
    ctx: Context,
) -> None:
    from statemachines.errors import GuardFailed

    first = JobRunner()
    first.start(ctx)

    def refused(_progress: Progress) -> Outcome:
        raise GuardFailed("the group does not accept this kind")

    failed = first.submit(ctx, kind="test", title="t", origin="/from", work=refused)
    while not read_job(ctx, failed).finished:
        time.sleep(0.01)
    blocker = threading.Event()
    stuck = first.submit(
        ctx,
        kind="test",
        title="t",
        origin="/from",
        work=lambda p: (blocker.wait(10), Outcome("late"))[1],
    )
    queued = first.submit(ctx, kind="test", title="t", origin="/from", work=lambda p: Outcome("x"))
    second = JobRunner()  # as after a restart: the first process's unfinished jobs
    assert second.start(ctx) == 2
    blocker.set()
    first.stop()
    second.stop()
    assert read_job(ctx, failed).message == "the group does not accept this kind"
    for job_id in (stuck, queued):
        job = read_job(ctx, job_id)
        assert (job.state, job.message) == ("failed", INTERRUPTED)  # the late end changes nothing
