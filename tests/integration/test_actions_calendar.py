"""`accord actions calendar`: the dated actions as an .ics file (icalendar), and a body's feed
served by the reply app at a secret URL, over real HTTP."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar

from tests.cli import run
from tests.conftest import SAMPLE_REPORT
from tests.integration.test_report_import import one_line_error
from tests.servers import serving

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _events(ics: bytes) -> list[Any]:
    return list(Calendar.from_ical(ics).walk("VEVENT"))


def test_the_calendar_has_an_event_on_each_dated_action(ctx: Any, tmp_path: Path) -> None:
    assert run("report", "import", SAMPLE_REPORT).code == 0
    output = tmp_path / "actions.ics"
    done = run("actions", "calendar", "--output", output)
    assert (done.code, done.stdout) == (0, f"wrote 19 event(s) to {output}\n")  # 2 are ongoing
    events = _events(output.read_bytes())
    assert len({str(event["uid"]) for event in events}) == 19
    first = events[0]
    assert first.decoded("dtstart") == date(2023, 9, 30)
    assert str(first["summary"]).startswith("Due: Update the ICC coordinators mission")
    assert str(first["url"]) == "http://127.0.0.1:8000/console/actions/1"
    assert "Responsible: ICC Secretariat" in str(first["description"])


def test_a_body_gets_its_own_calendar_and_a_feed_the_reply_app_serves(
    ctx: Any, tmp_path: Path
) -> None:
    assert run("report", "import", SAMPLE_REPORT).code == 0
    output = tmp_path / "reci.ics"
    done = run("actions", "calendar", "--body", "ICC Spanish network", "--output", output)
    assert done.code == 0, done.stderr
    written, feed = done.stdout.splitlines()
    assert written == f"wrote 1 event(s) to {output}"
    url = feed.removeprefix("feed for calendar applications: ")
    assert url.startswith("http://127.0.0.1:8000/calendar/") and url.endswith(".ics")
    (event,) = _events(output.read_bytes())
    assert "Responsible: RECI" in str(event["description"])
    path = url.removeprefix("http://127.0.0.1:8000")
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    with serving(ctx.settings) as base, httpx.Client(base_url=base, timeout=10) as http:
        served = http.get(path)
        assert served.status_code == 200
        assert served.headers["content-type"] == "text/calendar; charset=utf-8"
        assert [e["uid"] for e in _events(served.content)] == [
            e["uid"] for e in _events(output.read_bytes())
        ]
        tampered = ("A" if token[0] != "A" else "B") + token[1:]
        assert http.get(f"/calendar/{tampered}.ics").status_code == 404
        assert http.get("/calendar/not-a-token.ics").status_code == 404


def test_bad_calendar_requests_fail_with_one_line(ctx: Any, tmp_path: Path) -> None:
    assert one_line_error(run("actions", "calendar")) == (
        "error: give --output FILE.ics (or --feed-url with --body)"
    )
    assert one_line_error(run("actions", "calendar", "--feed-url")) == (
        "error: --feed-url needs --body NAME: each body has its own feed"
    )
    output = tmp_path / "x.ics"
    line = one_line_error(run("actions", "calendar", "--body", "Nobody", "--output", output))
    assert line == "error: no body named 'Nobody'"
    assert not output.exists()
