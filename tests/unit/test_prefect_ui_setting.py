"""Where the console's links to the Prefect UI go: ACCORD_PREFECT_UI_URL, else Prefect's own
PREFECT_UI_URL, else the UI of the server PREFECT_API_URL names; no link without them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accord.config import load_settings
from accord.services.dashboard import round_runs_url


@pytest.fixture(autouse=True)
def no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ACCORD_PREFECT_UI_URL", "PREFECT_UI_URL", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)


def test_no_prefect_server_no_ui() -> None:
    assert load_settings().prefect_ui_url is None
    assert round_runs_url(None, 3, datetime.now(UTC)) is None


def test_the_ui_of_the_api_prefect_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api/")
    assert load_settings().prefect_ui_url == "http://127.0.0.1:4200"
    monkeypatch.setenv("PREFECT_UI_URL", "https://prefect.example.org/")
    assert load_settings().prefect_ui_url == "https://prefect.example.org"
    monkeypatch.setenv("ACCORD_PREFECT_UI_URL", "https://ops.example.org")
    assert load_settings().prefect_ui_url == "https://ops.example.org"


def test_a_round_s_runs_are_its_tag_over_the_days_since_it_started() -> None:
    started = datetime.now(UTC) - timedelta(days=10, hours=3)
    url = round_runs_url("http://127.0.0.1:4200/", 7, started)
    assert url == "http://127.0.0.1:4200/runs?tag=round%3A7&type=span&seconds=-1036800"
