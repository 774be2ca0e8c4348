"""A members import of 10,000 from the console (a background job: the upload's answer, then the
time until its page says done) beside `accord members import` of the same file, each into a
fresh migrated database; and a round's start to 5,000 members from the console beside the same
service called in-process (the CLI's `rounds start` also delivers the mail: not comparable).

Run: .venv/bin/python bench/console_jobs.py [--members 10000] [--recipients 5000] [--repeat 3]
     [--db sqlite]
The console's time is the POST (every row checked, the job queued) plus the job's run, read as
the job page's htmx fragment sees it (asked every 50 ms); `progress` is how many different
counts that page showed on the way, so it is seen to advance.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _support import (
    ACCORD,
    Store,
    add_members,
    draft,
    fresh_store,
    load,
    machine,
    median,
    run_measured,
)
from fastapi.testclient import TestClient
from members_import import write_csv

PASSWORD = "bench password 2026"
EMAIL = "bench@example.org"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
COUNTS = re.compile(r"(\d+) of (\d+)")


def logged_in(store: Store) -> TestClient:
    from accord.config import load_settings
    from accord.services.users import add_user
    from accord.web.app import create_app

    add_user(store.context(), EMAIL, name="Bench", role="secretariat", password=PASSWORD)
    client = TestClient(create_app(load_settings(home=store.home, database_url=store.url)))
    client.__enter__()  # the app's lifespan: the job runner starts
    token = TOKEN.search(client.get("/console/login").text)
    assert token
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/console/login", data=form, follow_redirects=False).status_code == 303
    return client


def followed(client: TestClient, began: float, answer: Any) -> tuple[float, float, int]:
    """Seconds to the POST's answer, seconds to done, different progress counts seen."""
    answered = time.perf_counter() - began
    assert answer.status_code == 303, answer.text[:500]
    job_id = answer.headers["location"].rsplit("/", 1)[1]
    seen = set()
    while True:
        fragment = client.get(f"/console/fragments/jobs/{job_id}").text
        seen.update(COUNTS.findall(fragment))
        if "hx-trigger" not in fragment:
            break
        time.sleep(0.05)
    done = time.perf_counter() - began
    assert "Done" in fragment, fragment
    return answered, done, len(seen)


def console_import(store: Store, path: Path) -> tuple[float, float, int]:
    client = logged_in(store)
    try:
        token = TOKEN.search(client.get("/console/members").text)
        assert token
        began = time.perf_counter()
        answer = client.post(
            "/console/members/upload",
            data={"csrf_token": token.group(1)},
            files={"members_file": (path.name, path.read_bytes())},
            follow_redirects=False,
        )
        return followed(client, began, answer)
    finally:
        client.__exit__(None, None, None)


def console_round(store: Store, recipients: int) -> tuple[float, float, int]:
    add_members(store, recipients)
    statement = draft(store)
    client = logged_in(store)
    try:
        page = f"/console/statements/{statement}"
        token = TOKEN.search(client.get(page).text)
        assert token
        deadline = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
        form = {"group": "Bench", "rule": "majority", "deadline": deadline}
        began = time.perf_counter()
        answer = client.post(
            f"{page}/rounds",
            data={**form, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        return followed(client, began, answer)
    finally:
        client.__exit__(None, None, None)


def direct_round(store: Store, recipients: int) -> float:
    from accord.services.rounds import start_round

    add_members(store, recipients)
    statement = draft(store)
    ctx = store.context()
    began = time.perf_counter()
    start_round(
        ctx,
        statement_id=statement,
        group="Bench",
        rule="majority",
        deadline=datetime.now(UTC) + timedelta(days=10),
    )
    seconds = time.perf_counter() - began
    ctx.db.dispose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--recipients", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="accord-bench-jobs-")) / "members.csv"
    write_csv(path, args.members)
    print(machine())
    answers, dones, progress, cli = [], [], [], []
    for _ in range(args.repeat):
        with fresh_store(args.db) as store:
            answered, done, seen = console_import(store, path)
            answers.append(answered)
            dones.append(done)
            progress.append(seen)
        with fresh_store(args.db) as store:
            cli.append(run_measured([ACCORD, "members", "import", str(path)], store.env).seconds)
    print(
        f"{args.members} members ({args.db}): console POST answered in median "
        f"{median(answers):.2f} s, job done at {median(dones):.2f} s "
        f"(min {min(dones):.2f}, max {max(dones):.2f}; progress counts seen {progress}); "
        f"`accord members import` {median(cli):.2f} s (min {min(cli):.2f}, max {max(cli):.2f})"
    )
    rounds, direct = [], []
    for _ in range(args.repeat):
        with fresh_store(args.db) as store:
            rounds.append(console_round(store, args.recipients))
        with fresh_store(args.db) as store:
            direct.append(direct_round(store, args.recipients))
    print(
        f"round start to {args.recipients} members ({args.db}): console POST answered in median "
        f"{median([r[0] for r in rounds]):.2f} s, job done at {median([r[1] for r in rounds]):.2f}"
        f" s (progress counts seen {[r[2] for r in rounds]}); start_round in-process "
        f"{median(direct):.2f} s"
    )
    print(load())


if __name__ == "__main__":
    main()
