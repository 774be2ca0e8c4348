"""The dev mailbox pages: a message sent over SMTP to the dev mailbox, read in the browser."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accord.mail.devmailbox import start_dev_mailbox
from accord.web.mailbox import mailbox_router
from tests.e2e.processes import free_port

LINK = "http://127.0.0.1:8000/r/eyJhIjoxfQ.sig-nature_1"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    folder = tmp_path / "mailbox"
    mailbox = start_dev_mailbox(folder, "127.0.0.1", free_port())
    message = EmailMessage()
    message["From"] = "secretariat@example.org"
    message["To"] = "ana@example.org"
    message["Subject"] = "Endorsement requested: <script>alert(1)</script>"
    message.set_content(f"Answer here: {LINK}.\nOr reply <endorse> & co.\n")
    message.add_alternative(
        '<p onclick="x()">Hello <b>Ana</b></p><script>alert(2)</script>', "html"
    )
    try:
        with smtplib.SMTP(mailbox.host, mailbox.port) as smtp:
            smtp.send_message(message)
    finally:
        mailbox.stop()
    app = FastAPI()
    app.include_router(mailbox_router(folder))
    return TestClient(app)


def test_the_list_links_each_message_and_escapes_it(client: TestClient) -> None:
    page = client.get("/dev/mailbox")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "ana@example.org" in page.text and page.text.count('href="/dev/mailbox/') == 1


def test_a_message_shows_headers_clickable_links_and_a_sandboxed_html_part(
    client: TestClient,
) -> None:
    [message_id] = [
        line.split('href="/dev/mailbox/')[1].split('"')[0]
        for line in client.get("/dev/mailbox").text.split("<tr>")
        if 'href="/dev/mailbox/' in line
    ]
    page = client.get(f"/dev/mailbox/{message_id}").text
    assert f'<a href="{LINK}">{LINK}</a>.' in page
    assert "&lt;endorse&gt; &amp; co" in page
    assert '<iframe sandbox="" referrerpolicy="no-referrer" srcdoc="' in page
    assert "<script>" not in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "<th>Subject</th>" in page


def test_only_stored_messages_are_read(client: TestClient) -> None:
    """The reply app turns NotFound into its 404 page."""
    from statemachines.errors import NotFound

    assert client.get("/dev/mailbox/..%2F..%2Fsecret_key").status_code == 404
    for name in ("1700000000000000000-deadbeef", "secret_key", ".1700000000000000000-0.tmp"):
        with pytest.raises(NotFound):
            client.get(f"/dev/mailbox/{name}")
