"""What `accord rounds ...` says is so (issue 17): a round that can never succeed is refused
(item 3), the plain status shows each invitation's delivery and warns when any has not left
(item 4), a date-only deadline is the end of that day in the secretariat's zone and is echoed
there (item 5), and an answer for a stranger names the address typed (item 10)."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from accord.services.context import Context
from accord.services.rounds import parse_deadline
from storage import tables as t
from tests.cli import run
from tests.conftest import FIXTURES
from tests.servers import free_port

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
PARIS = ZoneInfo("Europe/Paris")


def ok(*args: object) -> str:
    done = run(*map(str, args))
    assert done.code == 0, done.stderr
    return done.stdout


def refused(*args: object) -> str:
    done = run(*map(str, args))
    assert done.code == 1, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.startswith("error: ")
    assert len(done.stderr.splitlines()) == 1, done.stderr
    return done.stderr


@pytest.fixture
def drafted(ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    """Seven members of the Advisory Group, a drafted statement, and no mail server listening."""
    monkeypatch.setenv("ACCORD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ACCORD_SMTP_PORT", str(free_port()))
    ok("members", "import", FIXTURES / "members.csv")
    body = tmp_path / "text.txt"
    body.write_text("We recall.\n", encoding="utf-8")
    ok("statements", "draft", "--title", "Day", "--kind", "awareness-day", "--body-file", body)
    return ctx


def start(*extra: str, deadline: str = "2023-10-17T18:00") -> str:
    return ok("rounds", "start", "1", "--group", "Advisory Group", "--deadline", deadline, *extra)


def entries() -> int:
    return json.loads(ok("audit", "verify", "--json"))["entries"]


@SQLITE_ONLY
def test_a_rule_the_group_can_never_meet_is_refused_at_start(drafted: Context) -> None:
    before = entries()
    error = refused(
        "rounds", "start", "1", "--group", "Advisory Group", "--rule", "min:999",
        "--deadline", "2023-10-17T18:00",
    )  # fmt: skip
    assert "min:999" in error and "7 member" in error and "Advisory Group" in error
    assert entries() == before
    assert json.loads(ok("statements", "show", "1", "--json"))["rounds"] == []
    start("--rule", "min:7")  # the whole group can still meet it


@SQLITE_ONLY
def test_plain_status_shows_delivery_and_warns_when_invitations_have_not_left(
    drafted: Context,
) -> None:
    start("--rule", "majority")
    out = ok("rounds", "status", "1")
    first = out.splitlines()[0]
    assert first.startswith("WARNING: 7 of 7 invitations have not left")
    assert "silence never counts as consent" in first
    assert out.count("queued") >= 7
    with drafted.uow() as uow:
        ids = [r.id for r in uow.session.execute(t.outbox.select().order_by(t.outbox.c.id))]
        for status, error, row_id in [
            ("sent", None, ids[0]),
            ("failed", "550 no such user", ids[1]),
            ("failed", "bounced: 5.1.1", ids[2]),
        ]:
            uow.session.execute(
                update(t.outbox)
                .where(t.outbox.c.id == row_id)
                .values(status=status, last_error=error)
            )
        uow.commit()
    out = ok("rounds", "status", "1")
    assert out.splitlines()[0].startswith("WARNING: 6 of 7 invitations have not left")
    assert "4 queued, 1 failed, 1 bounced" in out.splitlines()[0]
    lines = [line.split() for line in out.splitlines() if "@example.org" in line]
    assert sorted(line[-1] for line in lines) == ["bounced", "failed"] + ["queued"] * 4 + ["sent"]
    with drafted.uow() as uow:
        uow.session.execute(update(t.outbox).values(status="sent", last_error=None))
        uow.commit()
    assert "WARNING" not in ok("rounds", "status", "1")


def test_a_date_only_deadline_is_the_end_of_that_day_in_the_secretariats_zone() -> None:
    assert parse_deadline("2026-12-17", PARIS) == datetime(2026, 12, 17, 23, 59, 59, tzinfo=PARIS)
    assert parse_deadline(" 2026-07-01 ", PARIS).astimezone(UTC) == datetime(
        2026, 7, 1, 21, 59, 59, tzinfo=UTC
    )
    assert parse_deadline("2026-12-17T18:00", PARIS) == datetime(2026, 12, 17, 18, tzinfo=PARIS)
    assert parse_deadline("2026-12-17T18:00+00:00", PARIS).utcoffset().total_seconds() == 0


@SQLITE_ONLY
def test_commands_echo_the_deadline_in_the_secretariats_zone_with_its_offset(
    drafted: Context,
) -> None:
    out = start("--rule", "majority", deadline="2023-10-17")
    assert "deadline 2023-10-17 23:59 (Europe/Paris, UTC+0200)" in out
    assert "+00:00" not in out
    status = json.loads(ok("rounds", "status", "1", "--json"))
    assert status["deadline"] == "2023-10-17T21:59:59+00:00"
    assert "deadline 2023-10-17 23:59 (Europe/Paris, UTC+0200)" in ok("rounds", "status", "1")
    assert "deadline 2023-10-17 23:59 (Europe/Paris, UTC+0200)" in ok("rounds", "close", "1")


@SQLITE_ONLY
def test_an_answer_for_someone_not_asked_names_the_address_typed(
    drafted: Context, tmp_path: Path
) -> None:
    start("--rule", "majority")
    other = tmp_path / "other.csv"
    other.write_text("name,email,groups\nOutsider,Out.Sider@example.org,Board\n", encoding="utf-8")
    ok("members", "import", other)
    error = refused("replies", "record", "1", "Out.Sider@example.org", "--decision", "endorse")
    assert "Out.Sider@example.org is not a recipient of round 1" in error
    assert "member 8" not in error


@SQLITE_ONLY
@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_a_port_out_of_range_is_one_line(ctx: Context, port: str) -> None:
    error = refused("web", "--port", port)
    assert f"port {port} is out of range" in error and "Traceback" not in error


@SQLITE_ONLY
def test_a_port_in_use_is_one_line(ctx: Context) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        error = refused("web", "--port", str(port))
    assert f"cannot listen on 127.0.0.1:{port}: in use" in error


@SQLITE_ONLY
def test_a_utf16_statement_text_says_save_it_as_utf8(ctx: Context, tmp_path: Path) -> None:
    body = tmp_path / "text.txt"
    body.write_bytes("We recall.\n".encode("utf-16"))
    error = refused("statements", "draft", "--title", "T", "--kind", "awareness-day",
                    "--body-file", body)  # fmt: skip
    assert "save it as UTF-8" in error
