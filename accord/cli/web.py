"""`accord web`: the reply app; in development without an SMTP server, the dev mailbox too."""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from accord.config import Settings


def web(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
) -> None:
    """Serve the reply app (members' links) until Ctrl-C. In development without
    ACCORD_SMTP_HOST it also runs the dev mailbox (SMTP on 127.0.0.1:1025, or ACCORD_SMTP_PORT),
    whose messages /dev/mailbox shows."""
    import uvicorn

    from accord.cli.common import context
    from statemachines.errors import InvalidInput

    if not 1 <= port <= 65535:
        raise InvalidInput(f"port {port} is out of range (1-65535)")
    _check_can_listen(host, port)
    settings = context().settings  # refuses a database that `accord init` has not made
    with dev_mailbox(settings, f"http://{host}:{port}"):
        # By import string: accord.cli and accord.web are independent siblings (import-linter
        # layers); uvicorn calls the factory, which reads the settings like this command does.
        uvicorn.run(
            "accord.web.app:create_app", factory=True, host=host, port=port, server_header=False
        )


def _check_can_listen(host: str, port: int) -> None:
    """A one-line refusal, before anything starts, for an address the app could not listen on."""
    import socket

    from statemachines.errors import InvalidInput

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
            raise InvalidInput(f"cannot listen on {host}:{port}: {reason}") from None


@contextmanager
def dev_mailbox(settings: Settings, web_url: str) -> Iterator[None]:
    """The dev mailbox's SMTP server while the app serves, when it is the one in use; if its
    port is taken (`accord up` runs one), say so and serve without it."""
    if settings.env != "development" or not settings.uses_dev_mailbox:
        yield
        return
    from accord.mail.devmailbox import mailbox_folder, start_dev_mailbox

    host, smtp_port = settings.smtp_address
    try:
        mailbox = start_dev_mailbox(mailbox_folder(settings), host, smtp_port)
    except OSError:
        sys.stderr.write(
            f"dev mailbox: not started, {host}:{smtp_port} is in use (by `accord up`?); "
            "mail goes to whatever listens there\n"
        )
        yield
        return
    sys.stderr.write(
        f"dev mailbox: SMTP on {host}:{smtp_port}, messages at {web_url}/dev/mailbox\n"
    )
    try:
        yield
    finally:
        mailbox.stop()
