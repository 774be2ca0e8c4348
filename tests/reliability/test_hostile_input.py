"""Hostile input through the doors a user or an attacker has: the CLI, a member file, the reply
app's URLs and forms. Each gets a 4xx or a clean one-line refusal, never a 5xx or a traceback,
and no CR/LF ever turns into a mail header.

Covered elsewhere and not repeated: 100 kB and SQL tokens, invalid UTF-8, NUL and oversized forms
(tests/integration/test_web.py), unreadable member files (test_cli_foundation.py), header folding
of any name or subject (tests/unit/test_mail_render.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from accord.services.context import Context
from tests.cli import run
from tests.integration.test_web import open_round
from tests.reliability.conftest import SQLITE_ONLY, Sink
from tests.servers import serving

EVIL = "evil@example.org"
INJECTION = f"\r\nBcc: {EVIL}"
HEADERS = {
    "Return-Path", "From", "To", "Reply-To", "Date", "Subject", "Message-ID", "MIME-Version",
    "Content-Type", "Content-Transfer-Encoding", "In-Reply-To", "References", "Auto-Submitted",
}  # fmt: skip
MEMBERS_CSV = (
    "name,email,organisation,groups,language,timezone\r\n"
    f'"X{INJECTION}",x@example.org,"Org{INJECTION}",Network,en,Europe/Paris\r\n'
    '"Robert\'); DROP TABLE members;--",bobby@example.org,,Network,en,Europe/Paris\r\n'
    '"Eve \u202egnp.exe",eve@example.org,,Network,fr,Europe/Paris\r\n'
)


def ok(*args: object) -> str:
    done = run(*map(str, args))
    assert done.code == 0, done.stderr
    return done.stdout


def refused(*args: object) -> str:
    """A clean refusal: exit 1, one line on stderr that says why, nothing on stdout."""
    done = run(*map(str, args))
    assert done.code == 1, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
    return done.stderr


def assert_no_injected_header(server: Sink) -> None:
    for recipients, data in server.received:
        assert EVIL not in recipients
        head = data.split(b"\r\n\r\n", 1)[0]
        for line in head.split(b"\r\n"):
            assert not line.lower().startswith(b"bcc:"), line
    for message in server.messages():
        assert set(message.keys()) <= HEADERS, message.keys()
        for name in ("From", "To", "Reply-To"):
            for address in getattr(message[name], "addresses", ()):
                assert address.addr_spec != EVIL


@SQLITE_ONLY
def test_crlf_in_titles_names_and_comments_never_becomes_a_header(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sink: tuple[Sink, int]
) -> None:
    server, port = sink
    monkeypatch.setenv("ACCORD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ACCORD_SMTP_PORT", str(port))
    members = tmp_path / "members.csv"
    members.write_text(MEMBERS_CSV, encoding="utf-8")
    body = tmp_path / "body.txt"
    body.write_text(f"We, the members{INJECTION}\n", encoding="utf-8")
    ok("members", "import", members)
    listed = json.loads(ok("members", "list", "--json"))
    assert {m["name"] for m in listed} == {
        "X Bcc: evil@example.org",
        "Robert'); DROP TABLE members;--",  # just a name
        "Eve gnp.exe",  # the right-to-left override is gone
    }
    statement = json.loads(
        ok("statements", "draft", "--title", f"Migrants Day{INJECTION}", "--kind",
           "awareness-day", "--body-file", body, "--json")
    )  # fmt: skip
    assert statement["title"] == "Migrants Day Bcc: evil@example.org"
    rnd = json.loads(
        ok("rounds", "start", statement["id"], "--group", "Network", "--rule", "majority",
           "--deadline", "2023-10-10T18:00", "--json")
    )  # fmt: skip
    ok("replies", "record", rnd["id"], "x@example.org", "--decision", "decline",
       "--comment", f"not now{INJECTION}")  # fmt: skip
    ok("sweep")
    assert len(server.received) == 4  # three invitations and one receipt, nothing else
    assert_no_injected_header(server)
    (receipt,) = [m for m in server.messages() if "x@example.org" in str(m["To"])][1:]
    assert "not now" in receipt.get_body(("plain",)).get_content()  # the comment stays text


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["statements", "draft", "--title", "x" * 100_000, "--kind", "awareness-day"], "over 300"),
        (["statements", "draft", "--title", "\r\n\t", "--kind", "awareness-day"], "empty"),
        (["statements", "draft", "--title", "T", "--kind", "'; DROP TABLE kinds;--"], "unknown"),
        (["rounds", "start", "1", "--group", "' OR 1=1 --", "--rule", "majority",
          "--deadline", "2023-10-10T18:00"], "group"),
        (["rounds", "start", "1", "--group", "Network", "--rule", "min:1; DROP TABLE rounds",
          "--deadline", "2023-10-10T18:00"], "rule"),
        (["rounds", "start", "1", "--group", "Network", "--rule", "majority",
          "--deadline", "2023-10-10'; DROP TABLE rounds;--"], "bad deadline"),
        (["replies", "record", "1", "x@example.org' OR '1'='1", "--decision", "endorse"], "no"),
    ],
    ids=["100-kB-title", "blank-title", "sql-kind", "sql-group", "sql-rule", "sql-deadline",
         "sql-email"],
)  # fmt: skip
@SQLITE_ONLY
def test_hostile_options_get_a_one_line_refusal(
    ctx: Context, tmp_path: Path, args: list[str], reason: str
) -> None:
    members = tmp_path / "members.csv"
    members.write_text(MEMBERS_CSV, encoding="utf-8")
    ok("members", "import", members)
    body = tmp_path / "body.txt"
    body.write_text("We\n", encoding="utf-8")
    ok("statements", "draft", "--title", "T", "--kind", "awareness-day", "--body-file", body)
    if args[:2] == ["statements", "draft"]:
        args = [*args, "--body-file", str(body)]
    before = json.loads(ok("audit", "verify", "--json"))["entries"]
    assert reason in refused(*args)
    assert json.loads(ok("audit", "verify", "--json"))["entries"] == before  # nothing changed


@SQLITE_ONLY
def test_a_crlf_address_refuses_the_whole_member_file(ctx: Context, tmp_path: Path) -> None:
    members = tmp_path / "members.csv"
    members.write_text(
        MEMBERS_CSV + f'Mallory,"mallory@example.org{INJECTION}",,Network,en,Europe/Paris\r\n',
        encoding="utf-8",
    )
    assert "invalid email" in refused("members", "import", members)
    assert json.loads(ok("members", "list", "--json")) == []


PATHS = [
    "/r/%FF%FE%FD",  # invalid UTF-8
    "/r/%00",
    "/r/%C0%AE%C0%AE%2F%C0%AE%C0%AE%2Fetc%2Fpasswd",  # overlong UTF-8 dots
    "/r/..%2F..%2Fetc%2Fpasswd",
    "/r/%0D%0ASet-Cookie:%20stolen=1",  # response-header injection
    "/r/' OR '1'='1",
    "/r/" + "%F0%9F%92%A5" * 300,  # 1,200 bytes of emoji
    "/r/{{7*7}}",  # template injection
]


@SQLITE_ONLY
def test_hostile_link_paths_get_a_4xx_and_record_nothing(ctx: Context) -> None:
    rnd = open_round(ctx)
    with serving(ctx.settings) as base, httpx.Client(base_url=base, timeout=10) as http:
        for path in PATHS:
            for method in ("GET", "HEAD", "POST"):
                form = {"decision": "endorse"} if method == "POST" else None
                response = http.request(method, path, data=form)
                assert 400 <= response.status_code < 500, (method, path, response.status_code)
                assert "set-cookie" not in response.headers and "stolen" not in response.text
                assert "Nothing has been recorded" in response.text or method == "HEAD"
    rnd.assert_nothing_recorded()
