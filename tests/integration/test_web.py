"""The reply app over real HTTP (uvicorn in a thread, httpx), on SQLite and on PostgreSQL.

Rounds are set up through the services; members' links are made with `make_token` as the mail
composer makes them. The clock is FIXED_NOW (ACCORD_NOW) for the services and the app alike.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from accord.services.context import Context
from accord.services.members import import_members
from accord.services.results import plain
from accord.services.rounds import close_round, round_status, start_round
from accord.services.statement_rounds import revise_statement
from accord.services.statements import draft_statement
from storage import tables as t
from tests.conftest import FIXED_NOW, FIXTURES
from tests.links import member_token
from tests.servers import serving

DEADLINE = FIXED_NOW + timedelta(days=10)  # 2023-10-11 09:00 UTC
TITLE = "International Migrants Day 2023"
TEXT = (
    "On International Migrants Day, the members of the Advisory Group recall that diversity,\n"
    "well managed, is an advantage for our cities.\n"
)
BARRY = "barry.cusack@example.org"  # Europe/London
GEMMA = "gemma.pinyol@example.org"
ENDORSE_CHOICES = ["endorse", "decline", "abstain"]
SECURITY = {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}


# --- the server -----------------------------------------------------------------------------


@pytest.fixture
def live_server(ctx: Context) -> Iterator[str]:
    with serving(ctx.settings) as url:
        yield url


@pytest.fixture
def client(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=10) as http:
        yield http


# --- a round to answer ----------------------------------------------------------------------


@dataclass
class OpenRound:
    ctx: Context
    round_id: int
    statement_id: int
    sha256: str
    members: dict[str, int]

    def token(
        self,
        email: str = BARRY,
        *,
        sha256: str | None = None,
        deadline: datetime = DEADLINE,
        secret: str | None = None,
    ) -> str:
        """The member's link token, as the mail composer makes it."""
        return member_token(
            self.ctx,
            round_id=self.round_id,
            member_id=self.members[email],
            text_sha256=sha256 or self.sha256,
            deadline=deadline,
            secret=secret,
        )

    def status(self) -> dict[str, Any]:
        return plain(round_status(self.ctx, self.round_id))

    def decisions(self) -> list[Any]:
        with self.ctx.uow(readonly=True) as uow:
            query = (
                select(t.decisions)
                .where(t.decisions.c.round_id == self.round_id)
                .order_by(t.decisions.c.id)
            )
            return list(uow.session.execute(query))

    def receipts(self) -> int:
        with self.ctx.uow(readonly=True) as uow:
            query = (
                select(func.count()).select_from(t.outbox).where(t.outbox.c.purpose == "receipt")
            )
            return int(uow.session.scalar(query) or 0)

    def assert_nothing_recorded(self) -> None:
        assert self.decisions() == []
        assert self.status()["tally"] == {"endorse": 0, "decline": 0, "abstain": 0, "pending": 7}
        assert self.receipts() == 0


def open_round(ctx: Context, mode: str = "endorse") -> OpenRound:
    """The Advisory Group's members, a statement of kind awareness-day, and a majority round."""
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(ctx, title=TITLE, kind="awareness-day", body=TEXT)
    rnd = plain(
        start_round(
            ctx,
            statement_id=statement.id,
            group="Advisory Group",
            rule="majority",
            deadline=DEADLINE,
            mode=mode,
        )
    )
    with ctx.uow(readonly=True) as uow:
        members = {m.email: m.id for m in uow.members.list()}
    return OpenRound(ctx, rnd["id"], statement.id, rnd["text_sha256"], members)


@pytest.fixture
def rnd(ctx: Context) -> OpenRound:
    return open_round(ctx)


# --- reading pages --------------------------------------------------------------------------


class PageParser(HTMLParser):
    """The forms of a page with their controls, and every attribute that can load or send."""

    URL_ATTRIBUTES = ("href", "src", "srcset", "action", "formaction", "data", "poster")

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append(tag)
        self.urls += [attributes[a] for a in self.URL_ATTRIBUTES if a in attributes]
        if tag == "form":
            self.forms.append({"attrs": attributes, "controls": []})
        elif tag in ("button", "input", "textarea", "select") and self.forms:
            self.forms[-1]["controls"].append({"tag": tag, **attributes})


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (name, response.request.url.path)


def assert_refused(response: httpx.Response, status: int, token: str = "") -> None:
    """A clear HTML page, the expected 4xx, the usual headers, and the token not echoed."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert_security_headers(response)
    assert response.headers["cache-control"] == "no-store"
    if response.request.method != "HEAD":
        assert "Nothing has been recorded" in response.text
    if token:
        assert token not in response.text


# --- the confirmation page ------------------------------------------------------------------


def test_page_shows_the_statement_and_one_post_form(client: httpx.Client, rnd: OpenRound) -> None:
    token = rnd.token()
    response = client.get(f"/r/{token}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert_security_headers(response)
    page = response.text
    for shown in (
        TITLE,
        "awareness-day",
        "marks an international day",  # what endorsing this kind means
        "diversity,\nwell managed, is an advantage",
        rnd.sha256,
        "2023-10-11 10:00 (Europe/London, UTC+0100)",  # the member's time zone
        "2023-10-11 11:00 (Europe/Paris, UTC+0200)",  # the secretariat's
        "majority",
        "more than half of the members endorse",
        "none yet",
    ):
        assert shown in page, shown
    parsed = parse(page)
    assert len(parsed.forms) == 1
    form = parsed.forms[0]
    assert form["attrs"]["method"].lower() == "post"
    assert form["attrs"].get("action", "") == ""  # posts back to its own URL
    buttons = [c for c in form["controls"] if c["tag"] == "button"]
    assert [(b["name"], b["value"], b.get("type")) for b in buttons] == [
        ("decision", v, "submit") for v in ENDORSE_CHOICES
    ]
    assert [c["name"] for c in form["controls"] if c["tag"] == "textarea"] == ["comment"]
    assert "script" not in parsed.tags and "iframe" not in parsed.tags and "img" not in parsed.tags
    assert parsed.urls == []
    assert not re.search(r"https?://", page)  # no asset, link or action off the page
    assert token not in page


def test_get_head_and_prefetching_record_nothing(client: httpx.Client, rnd: OpenRound) -> None:
    path = f"/r/{rnd.token()}"
    scanners = [
        {},
        {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
        {"User-Agent": "Microsoft Office Existence Discovery"},
        {"User-Agent": "Barracuda Sentinel (EE)"},
        {"Purpose": "prefetch"},
        {"Sec-Purpose": "prefetch;prerender"},
        {"X-Moz": "prefetch", "X-Purpose": "preview"},
    ]
    for headers in scanners:
        assert client.get(path, headers=headers).status_code == 200
    head = client.head(path)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/html")
    assert_security_headers(head)
    rnd.assert_nothing_recorded()


def test_consult_round_offers_support_concerns_abstain(ctx: Context, client: httpx.Client) -> None:
    consult = open_round(ctx, mode="consult")
    path = f"/r/{consult.token()}"
    page = client.get(path).text
    assert "This is a consultation" in page
    buttons = [c["value"] for c in parse(page).forms[0]["controls"] if c["tag"] == "button"]
    assert buttons == ["support", "concerns", "abstain"]
    assert client.post(path, data={"decision": "endorse"}).status_code == 422
    response = client.post(path, data={"decision": "concerns", "comment": "Too long."})
    assert response.status_code == 200 and "Raise concerns" in response.text
    assert [d.decision for d in consult.decisions()] == ["concerns"]


# --- answering ------------------------------------------------------------------------------


def test_post_records_and_a_second_post_changes_the_answer(
    client: httpx.Client, rnd: OpenRound
) -> None:
    path = f"/r/{rnd.token()}"
    first = client.post(path, data={"decision": "decline", "comment": "Not our <b>topic</b>"})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    for shown in (
        "Decline",
        "Not our &lt;b&gt;topic&lt;/b&gt;",  # autoescaped
        "2023-10-01 10:00 (Europe/London, UTC+0100)",  # when, in the member's time zone
        rnd.sha256,
        "receipt",
        "change your answer",
    ):
        assert shown in first.text, shown
    status = rnd.status()
    assert status["tally"] == {"endorse": 0, "decline": 1, "abstain": 0, "pending": 6}
    assert rnd.receipts() == 1

    second = client.post(path, data={"decision": "endorse", "comment": ""})
    assert second.status_code == 200 and "Endorse" in second.text
    assert rnd.status()["tally"] == {"endorse": 1, "decline": 0, "abstain": 0, "pending": 6}
    history = rnd.decisions()
    assert [(d.decision, d.comment, d.channel) for d in history] == [
        ("decline", "Not our <b>topic</b>", "link"),
        ("endorse", None, "link"),
    ]
    assert {d.member_id for d in history} == {rnd.members[BARRY]}
    assert {d.text_sha256 for d in history} == {rnd.sha256}
    assert rnd.receipts() == 2
    assert 'class="current">Endorse<' in client.get(path).text


def test_answer_that_closes_the_round_says_so(client: httpx.Client, rnd: OpenRound) -> None:
    pages = [client.post(f"/r/{rnd.token(e)}", data={"decision": "endorse"}) for e in rnd.members]
    assert [p.status_code for p in pages] == [200] * 7
    assert all("change your answer" in p.text for p in pages[:-1])
    assert "the round has closed" in pages[-1].text
    assert rnd.status()["state"] == "closed"
    assert_refused(client.get(f"/r/{rnd.token()}"), 410)


# --- refusals -------------------------------------------------------------------------------


def _tamper(token: str) -> str:
    """One character of the signed payload changed (not the last one: base64 padding bits)."""
    i = len(token) // 4
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


LINK_CASES: dict[str, tuple[Callable[[OpenRound], str], int, str]] = {
    "forged": (lambda r: r.token(secret="not-the-secret-key"), 400, "not valid"),
    "truncated": (lambda r: r.token()[:-6], 400, "not valid"),
    "tampered-other-member": (lambda r: _tamper(r.token(GEMMA)), 400, "not valid"),
    "expired": (lambda r: r.token(deadline=FIXED_NOW - timedelta(hours=73)), 410, "expired"),
    "garbage": (lambda r: "'; DROP TABLE decisions; --", 400, "not valid"),
    "8-kB": (lambda r: "x" * 8_000, 400, "not valid"),
    "stale": (
        lambda r: (r.token(), plain(revise_statement(r.ctx, r.statement_id, TEXT + "Revised.\n")))[
            0
        ],
        410,
        "text has changed",
    ),
    "closed": (lambda r: (r.token(), plain(close_round(r.ctx, r.round_id)))[0], 410, "closed"),
}


@pytest.mark.parametrize("case", LINK_CASES)
def test_bad_links_are_refused_and_record_nothing(
    client: httpx.Client, rnd: OpenRound, case: str
) -> None:
    make, status, reason = LINK_CASES[case]
    token = make(rnd)
    path = f"/r/{token}"
    page = client.get(path)
    assert_refused(page, status, token)
    assert reason in page.text
    assert_refused(client.head(path), status)
    assert_refused(client.post(path, data={"decision": "endorse"}), status, token)
    rnd.assert_nothing_recorded()


def test_stale_link_refused_but_the_new_one_works(client: httpx.Client, rnd: OpenRound) -> None:
    old = rnd.token()
    revised = plain(revise_statement(rnd.ctx, rnd.statement_id, TEXT + "Revised.\n"))
    assert client.get(f"/r/{old}").status_code == 410
    page = client.get(f"/r/{rnd.token(sha256=revised['sha256'])}")
    assert page.status_code == 200 and revised["sha256"] in page.text


FORM_CASES: dict[str, tuple[dict[str, Any], int]] = {
    "unknown decision": ({"data": {"decision": "approve"}}, 422),
    "no decision": ({"data": {"comment": "hello"}}, 422),
    "SQL in decision": ({"data": {"decision": "endorse'; DROP TABLE decisions; --"}}, 422),
    "invalid UTF-8 escape in comment": (
        {"content": b"decision=endorse&comment=caf%C3%28%FF", "headers": {"Content-Type": ""}},
        422,
    ),
    "raw non-ASCII bytes in comment": (
        {"content": b"decision=endorse&comment=\xff\xfe", "headers": {"Content-Type": ""}},
        422,
    ),
    "NUL in comment": ({"data": {"decision": "endorse", "comment": "a\x00b"}}, 422),
    "multipart instead of the form": ({"files": {"decision": (None, b"endorse")}}, 422),
    "JSON instead of the form": ({"json": {"decision": "endorse"}}, 422),
    "over 100 kB": ({"data": {"decision": "endorse", "comment": "x" * 120_000}}, 422),
}


@pytest.mark.parametrize("case", FORM_CASES)
def test_bad_answers_are_refused_and_record_nothing(
    client: httpx.Client, rnd: OpenRound, case: str
) -> None:
    request, status = FORM_CASES[case]
    if request.get("headers", {}).get("Content-Type") == "":
        request = {**request, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    assert_refused(client.post(f"/r/{rnd.token()}", **request), status)
    rnd.assert_nothing_recorded()


def test_sql_in_the_comment_is_just_text(client: httpx.Client, rnd: OpenRound) -> None:
    comment = "'); DELETE FROM decisions; --"
    response = client.post(f"/r/{rnd.token()}", data={"decision": "abstain", "comment": comment})
    assert response.status_code == 200
    assert [d.comment for d in rnd.decisions()] == [comment]


def raw_request(base_url: str, request: bytes) -> tuple[int, bytes]:
    """Status and whole answer of bytes sent as they are (httpx refuses URLs over 64 kB)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_100_kb_token_is_refused_without_a_server_error(live_server: str, rnd: OpenRound) -> None:
    """Over h11's 16 kB limit for a request head, uvicorn answers 400 before the app runs."""
    token = (rnd.token() + "A" * 100_000).encode()
    body = b"decision=endorse"
    for head in (b"GET /r/%s HTTP/1.1\r\n" % token, b"POST /r/%s HTTP/1.1\r\n" % token):
        status, answer = raw_request(
            live_server,
            head + b"Host: test\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body),
        )
        assert 400 <= status < 500
        assert token not in answer
    rnd.assert_nothing_recorded()


# --- every response -------------------------------------------------------------------------


def test_every_response_sends_the_security_headers(ctx: Context, client: httpx.Client) -> None:
    site = ctx.settings.home / "site"
    site.mkdir(parents=True, exist_ok=True)
    (site / "published.html").write_text("<p>published</p>", encoding="utf-8")
    expected = {
        ("GET", "/"): 404,
        ("GET", "/nowhere"): 404,
        ("GET", "/r/"): 404,
        ("GET", "/r/a/b"): 404,
        ("PUT", "/r/abc"): 405,
        ("POST", "/healthz"): 405,
        ("GET", "/healthz"): 200,
        ("GET", "/site/published.html"): 200,
        ("GET", "/site/missing.html"): 404,
        ("GET", "/site/%2e%2e/%2e%2e/etc/passwd"): 404,
        ("GET", "/docs"): 404,
    }
    for (method, path), status in expected.items():
        response = client.request(method, path)
        assert response.status_code == status, (method, path, response.text)
        assert_security_headers(response)
        if status >= 400:
            assert response.headers["content-type"].startswith("text/html")


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_access_log_never_shows_a_token(client: httpx.Client, rnd: OpenRound) -> None:
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    try:
        token = rnd.token()
        client.get(f"/r/{token}")
        client.post(f"/r/{token}", data={"decision": "abstain"})
    finally:
        access.removeHandler(handler)
    assert len(lines) == 2 and all("/r/…" in line for line in lines)
    assert not any(token in line for line in lines)
