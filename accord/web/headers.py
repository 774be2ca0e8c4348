"""The headers every response of the app carries, and the access log without members' tokens."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.web.console import CONSOLE_HEADERS
from accord.web.console.security import PREFIX as CONSOLE_PREFIX

LINK_PREFIX = "/r/"
SECURITY_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    ),
}


def headers_for(path: str) -> dict[str, str]:
    """Headers for every response; a member's page (or its refusal) is never cached."""
    if path.startswith(CONSOLE_PREFIX):
        return CONSOLE_HEADERS
    if path.startswith(LINK_PREFIX):
        return {**SECURITY_HEADERS, "Cache-Control": "no-store"}
    return SECURITY_HEADERS


class SecurityHeaders:
    """ASGI middleware adding `headers_for(path)` to every response of the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = headers_for(scope["path"]).items()
        extra = {name.lower().encode(): value.encode() for name, value in headers}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                given = [(k, v) for k, v in message.get("headers", []) if k not in extra]
                message["headers"] = [*given, *extra.items()]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HideLinks(logging.Filter):
    """Replaces the token in uvicorn's access-log lines for `/r/<token>` by `…`."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and str(args[2]).startswith(LINK_PREFIX):
            record.args = (args[0], args[1], f"{LINK_PREFIX}…", args[3], args[4])
        return True


HIDE_LINKS = HideLinks()
