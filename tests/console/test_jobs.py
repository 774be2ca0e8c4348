"""Long work from the console runs as a background job: the POST answers at once with the job's
page, which shows its progress and refreshes itself (htmx, or the page's own refresh without
script), then links to what it made. Over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import httpx

from accord.services.context import Context
from accord.services.jobs import JobRunner, read_job
from storage.tables import jobs
from tests.console.helpers import SECRETARIAT, VIEWER, Console, finished_job, snapshot

HEADER = "name,email,organisation,groups,language,timezone\n"
TEXT = "On this day we stand together."


def members_csv(count: int, group: str = "Network") -> bytes:
    rows = (
        f"Member {n},member{n}@example.org,City {n},{group},en,Europe/Paris\n" for n in range(count)
    )
    return (HEADER + "".join(rows)).encode()


def upload(console: Console, data: bytes, name: str = "big.csv") -> httpx.Response:
    token = console.token("/console/members")
    return console.http.post(
        "/console/members/upload", data={"csrf_token": token}, files={"members_file": (name, data)}
    )


def record(ctx: Context) -> list[tuple[str, str, str, str]]:
    with ctx.uow(readonly=True) as uow:
        return [(e.actor, e.channel, e.entity_type, e.action) for e in uow.audit.entries()]


def test_a_big_members_file_is_imported_by_a_job_whose_page_reaches_done(
    ctx: Context, console: Console
) -> None:
    console.log_in(SECRETARIAT)
    queued = upload(console, members_csv(2_000))
    assert queued.status_code == 303
    location = queued.headers["location"]
    assert re.fullmatch(r"/console/jobs/\d+", location)
    first = console.http.get(location).text
    assert 'hx-trigger="every 1s"' in first or "Done" in first  # polls until it ends
    page = finished_job(console, location)
    assert "Done" in page and "2000 of 2000" in page
    assert "2000 created, 0 updated, 0 unchanged" in page
    assert 'href="/console/members"' in page and "hx-trigger" not in page
    assert '<meta http-equiv="refresh"' not in page  # an ended job's page stays still
    job = read_job(ctx, int(location.rsplit("/", 1)[1]))
    assert (job.state, job.done, job.total, job.started_by) == ("done", 2000, 2000, SECRETARIAT)
    assert (SECRETARIAT, "console", "members", "import") in record(ctx)
    listed = console.http.get("/console/members", params={"group": "Network"}).text
    assert "2000 members" in listed


def test_a_running_job_page_refreshes_itself_without_script_too(
    ctx: Context, console: Console
) -> None:
    console.log_in(SECRETARIAT)
    queued = upload(console, members_csv(3))
    job_id = int(queued.headers["location"].rsplit("/", 1)[1])
    finished_job(console, queued.headers["location"])
    with ctx.uow() as uow:  # a job an earlier process left running: marked when the app starts
        uow.connection.execute(jobs.update().values(state="running"))
        uow.commit()
    page = console.http.get(f"/console/jobs/{job_id}").text
    assert '<noscript><meta http-equiv="refresh" content="1"></noscript>' in page
    assert f'href="/console/jobs/{job_id}"' in page  # and a link to refresh by hand
    restarted = JobRunner()
    assert restarted.start(ctx) == 1
    restarted.stop()
    interrupted = console.http.get(f"/console/jobs/{job_id}").text
    assert "Failed" in interrupted and "interrupted" in interrupted


def test_a_bad_members_file_shows_every_bad_row_and_queues_nothing(
    ctx: Context, console: Console
) -> None:
    console.log_in(SECRETARIAT)
    before = snapshot(ctx)
    bad = (
        members_csv(2_000).decode()
        + "No Email,,x,Network,en,Europe/Paris\nZ,z@example.org,,N,xx,UTC\n"
    )
    refused = upload(console, bad.encode())
    assert refused.status_code == 400
    assert "Nothing was imported: every bad row is listed below." in refused.text
    assert refused.text.count("<li>big.csv: line") == 2
    assert snapshot(ctx) == before  # no member, no job


def test_a_viewer_cannot_start_jobs(ctx: Context, console: Console) -> None:
    console.log_in(VIEWER)
    before = snapshot(ctx)
    token = console.token("/console/members")
    refused = console.http.post(
        "/console/members/upload",
        data={"csrf_token": token},
        files={"members_file": ("m.csv", members_csv(3))},
    )
    assert refused.status_code == 403
    form = {"group": "Network", "rule": "majority", "deadline": "2030-01-01T18:00"}
    assert console.post("/console/statements/1/rounds", form).status_code == 403
    assert snapshot(ctx) == before


def test_a_round_start_runs_as_a_job_then_links_to_the_round(
    ctx: Context, console: Console
) -> None:
    console.log_in(SECRETARIAT)
    finished_job(console, upload(console, members_csv(1_500)).headers["location"])
    new = "/console/statements/new"
    form = {"title": "Day", "kind": "awareness-day", "body": TEXT, "step": "save"}
    assert console.post(new, form, page=new).headers["location"] == "/console/statements/1"
    page = "/console/statements/1"
    start = {"group": "Network", "rule": "majority", "deadline": "2030-01-01T18:00"}
    queued = console.post(f"{page}/rounds", start, page=page)
    assert queued.status_code == 303 and queued.headers["location"].startswith("/console/jobs/")
    done = finished_job(console, queued.headers["location"])
    assert "round 1 started: 1500 members asked" in done and "1500 of 1500" in done
    assert 'href="/console/rounds/1"' in done
    assert "1500 pending" in console.http.get("/console/rounds/1").text
    assert (SECRETARIAT, "console", "round", "start") in record(ctx)


def test_pages_answer_while_a_long_write_holds_the_database(ctx: Context, console: Console) -> None:
    """A job's page must move while the job's transaction writes: a console page reads the
    session in a read-only transaction (on SQLite a write one would wait for the writer)."""
    console.log_in(SECRETARIAT)
    with ctx.uow() as uow:
        uow.connection.execute(jobs.update().where(jobs.c.id == 0).values(state="done"))
        page = console.http.get("/console/members", timeout=5)  # not the busy timeout (60 s)
        assert page.status_code == 200
        uow.rollback()


def test_a_french_user_reads_the_job_result_in_french_and_the_record_keeps_english(
    ctx: Context, base_url: str
) -> None:
    console = Console.at(base_url, **{"Accept-Language": "fr-FR,fr;q=0.9"})
    console.log_in(SECRETARIAT)
    page = finished_job(console, upload(console, members_csv(3)).headers["location"])
    assert "3 créés, 0 mis à jour, 0 inchangés" in page
    console.http.close()
    job = read_job(ctx, 1)
    assert job.message == "3 created, 0 updated, 0 unchanged"  # English for the CLI and logs
