"""`accord web`: the reply app only."""

from __future__ import annotations

import typer


def web(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
) -> None:
    """Serve the reply app (members' links) until Ctrl-C."""
    import uvicorn

    from accord.cli.common import context
    from statemachines.errors import InvalidInput

    if not 1 <= port <= 65535:
        raise InvalidInput(f"port {port} is out of range (1-65535)")
    context()  # refuses, before serving, a database that `accord init` has not made
    # By import string: accord.cli and accord.web are independent siblings (import-linter layers);
    # uvicorn calls the factory, which reads the settings like this command does.
    uvicorn.run(
        "accord.web.app:create_app", factory=True, host=host, port=port, server_header=False
    )
