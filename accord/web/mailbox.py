"""The dev mailbox in the browser: `/dev/mailbox` lists what accord sent, `/dev/mailbox/{id}`
shows one message (headers, the text part with its links clickable, the HTML part in a sandboxed
frame) so a newcomer can answer as each member. Development only: these pages show members'
reply links, so mount them only when the dev mailbox is in use.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from accord.mail.devmailbox import MailboxEntry, MailboxMessage, list_messages, read_message

_LINK = re.compile(r"(https?://[^\s<>\"'()\[\]]+?)([.,;:!?]*(?:\s|$))")
NO_STORE = {"Cache-Control": "no-store"}
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: .35em .6em; border-bottom: 1px solid #ddd; }
pre { white-space: pre-wrap; background: #f6f6f4; padding: 1em; border-radius: 4px; }
iframe { width: 100%; height: 36em; border: 1px solid #ccc; }
.muted { color: #666; }
.warning { background: #fff4d6; border-left: 4px solid #c90; padding: .6em 1em; }
"""


def mailbox_router(folder: Path, smtp: tuple[str, int] | None = None) -> APIRouter:
    """Routes for the messages stored under `folder` (ACCORD_HOME/mailbox); pages for a person,
    not part of the app's API document. With `smtp` (where accord sends mail), the list says
    when nothing listens there."""
    router = APIRouter(include_in_schema=False)

    @router.get("/dev/mailbox", response_class=HTMLResponse)
    def mailbox() -> HTMLResponse:
        silent = smtp if smtp is not None and not listening(*smtp) else None
        return HTMLResponse(list_page(list_messages(folder), silent), headers=NO_STORE)

    @router.get("/dev/mailbox/{message_id}", response_class=HTMLResponse)
    def message(message_id: str) -> HTMLResponse:
        return HTMLResponse(message_page(read_message(folder, message_id)), headers=NO_STORE)

    return router


def listening(host: str, port: int) -> bool:
    """Whether a server accepts connections at host:port (checked in at most half a second)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _nothing_listening(smtp: tuple[str, int]) -> Markup:
    return Markup(
        "<p class='warning'>Nothing is listening on {}:{}, the dev mailbox's SMTP port: mail "
        "accord sends waits in the outbox. Start the dev mailbox with <code>accord web</code> "
        "(development, no <code>ACCORD_SMTP_HOST</code>) or <code>accord up</code>, then send "
        "what waits with <code>accord sweep</code>.</p>"
    ).format(*smtp)


def list_page(entries: list[MailboxEntry], silent: tuple[str, int] | None = None) -> str:
    """The messages, newest first; `silent`: the SMTP address where nothing listens."""
    rows = Markup("").join(
        Markup(
            '<tr><td class="muted">{}</td><td>{}</td><td><a href="/dev/mailbox/{}">{}</a></td>'
            "<td>{}</td></tr>"
        ).format(e.date[:19].replace("T", " "), e.to, e.id, e.subject or "(no subject)", e.sender)
        for e in entries
    )
    body = (
        Markup("<h1>Dev mailbox</h1>")
        + (_nothing_listening(silent) if silent else Markup(""))
        + Markup("<p class='muted'>{} message(s); newest first.</p>").format(len(entries))
        + Markup("<table><tr><th>received</th><th>to</th><th>subject</th><th>from</th></tr>")
        + rows
        + Markup("</table>")
    )
    return _page("Dev mailbox", body, refresh=True)


def message_page(message: MailboxMessage) -> str:
    headers = Markup("").join(
        Markup("<tr><th>{}</th><td>{}</td></tr>").format(name, value)
        for name, value in message.headers
    )
    subject = next((v for n, v in message.headers if n.lower() == "subject"), "(no subject)")
    body = Markup(
        '<p><a href="/dev/mailbox">&larr; all messages</a></p><h1>{}</h1>'
        "<table>{}</table><h2>Text</h2><pre>{}</pre>"
    ).format(subject, headers, linkify(message.text))
    if message.html:
        body += Markup(
            '<h2>HTML</h2><iframe sandbox="" referrerpolicy="no-referrer" srcdoc="{}"></iframe>'
        ).format(message.html)
    return _page(subject, body)


def linkify(text: str) -> Markup:
    """Escaped text with each http(s) link an anchor (trailing punctuation left outside)."""
    pieces: list[Markup] = []
    position = 0
    for match in _LINK.finditer(text):
        url, tail = match.group(1), match.group(2)
        pieces += [escape(text[position : match.start()])]
        pieces += [Markup('<a href="{}">{}</a>').format(url, url), escape(tail)]
        position = match.end()
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


def _page(title: str, body: Markup, *, refresh: bool = False) -> str:
    meta = Markup('<meta http-equiv="refresh" content="5">') if refresh else Markup("")
    return str(
        Markup(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">{}'
            "<title>{}</title><style>{}</style></head><body>{}</body></html>"
        ).format(meta, title, Markup(STYLE), body)
    )
