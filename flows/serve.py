"""`python -m flows.serve`: serve every deployment in this process until interrupted.

Run with PREFECT_API_URL pointing at a `prefect server start` (`accord up` does this); without it
`serve` would start a temporary server with no UI. The server may still be starting: this process
imports what it needs meanwhile, then waits for the API to answer.
"""

from __future__ import annotations

import os
import sys
import time

API_WAIT_S = 120.0


def main() -> None:
    api = os.environ.get("PREFECT_API_URL", "").strip()
    if not api:
        sys.exit("error: set PREFECT_API_URL to a running Prefect server (see `accord up`)")
    from prefect import serve

    from accord.config import load_settings
    from flows.deployments import runner_deployments
    from flows.launch import api_healthy

    deployments = runner_deployments(load_settings())
    deadline = time.monotonic() + API_WAIT_S
    while not api_healthy(api):
        if time.monotonic() > deadline:
            sys.exit(f"error: the Prefect API at {api} did not answer within {API_WAIT_S:.0f} s")
        time.sleep(0.5)
    serve(*deployments, print_starting_message=False)


if __name__ == "__main__":
    main()
