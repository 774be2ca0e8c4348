"""End-to-end tests: `slow` marks the ones that start a Prefect server (tens of seconds each);
`pytest -m "not slow"` leaves them out."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts real servers; tens of seconds")
