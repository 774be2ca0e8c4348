"""Helpers shared by the command modules: the context, JSON output, one-line failures."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from accord.services.context import Context


_opened: list[Context] = []


def context(*, require_ready: bool = True) -> Context:
    """Settings and database for a command; most commands need `accord init` to have run."""
    from accord.config import load_settings
    from accord.services.context import Context
    from accord.services.setup import ensure_ready

    ctx = Context(load_settings())
    _opened.append(ctx)
    if require_ready:
        ensure_ready(ctx)
    return ctx


def close_contexts() -> None:
    """Release the database connections the command opened."""
    while _opened:
        ctx = _opened.pop()
        if "db" in vars(ctx):
            ctx.db.dispose()


def print_json(value: Any) -> None:
    """A service's result as the JSON the contract gives (dataclasses by their field names)."""
    from accord.services.results import plain

    sys.stdout.write(json.dumps(plain(value), indent=2, ensure_ascii=False, default=str) + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    for line in message.splitlines() or ["failed"]:
        sys.stderr.write(f"error: {line}\n")
    sys.exit(code)


def secretariat_time(moment: str) -> str:
    """An ISO moment as the secretariat reads it, in its zone with the offset, as mails show it:
    `2026-12-17 23:59 (Europe/Paris, UTC+0100)`."""
    from datetime import datetime

    from accord.config import load_settings

    zone = load_settings().tz
    local = datetime.fromisoformat(moment).astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} ({zone.key}, UTC{local:%z})"


def deliver_now(ctx: Context, *, quiet: bool = False) -> None:
    """Send what the command put in the outbox; if mail cannot go now, `accord sweep` retries."""
    from accord.services.delivery import deliver

    report = deliver(ctx)
    if quiet:
        return
    line = f"mail: {report.sent} sent"
    if report.failed:
        line += f", {report.failed} failed"
    if report.retry_later:
        line += f", {report.retry_later} to retry (run `accord sweep` later)"
    if report.next_at is not None:
        line += (
            f"; the rest waits for the sending budget (next batch at "
            f"{report.next_at:%Y-%m-%d %H:%M:%S} UTC, sent by `accord sweep` or the workers)"
        )
    sys.stderr.write(line + "\n")
    for error in report.errors[:5]:
        sys.stderr.write(f"  {error}\n")
