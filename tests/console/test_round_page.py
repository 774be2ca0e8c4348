"""The round page over real HTTP: recipients paged and chosen by answer and mail state, the mail
counts loaded apart, and the links to the round's flow runs in the Prefect UI (dashboard too)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from accord.config import load_settings
from accord.services.context import Context
from tests.console.helpers import SECRETARIAT, Console
from tests.integration.test_web import BARRY, open_round
from tests.servers import serving

UI = "http://127.0.0.1:4200"


@pytest.fixture
def with_prefect_ui(ctx: Context, base_url: str) -> Iterator[Console]:
    """A console whose settings name a Prefect UI (the users made by `base_url`)."""
    with serving(load_settings(prefect_ui_url=f"{UI}/")) as base:
        client = Console.at(base)
        client.log_in(SECRETARIAT)
        yield client
        client.http.close()


def names_shown(page: str) -> list[str]:
    return [line.split("<br>")[0].strip()[4:] for line in page.split("\n") if "<br><span" in line]


def test_recipients_are_chosen_by_answer_and_mail_and_paged(
    ctx: Context, console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    rnd = open_round(ctx)
    console.log_in(SECRETARIAT)
    page = f"/console/rounds/{rnd.round_id}"
    assert len(names_shown(console.http.get(f"{page}?delivery=queued").text)) == 7
    none = console.http.get(f"{page}?delivery=sent").text
    assert "No recipient matches these filters." in none
    assert console.http.post(f"/r/{rnd.token(BARRY)}", data={"decision": "endorse"}).is_success
    everyone = console.http.get(page).text
    assert len(names_shown(everyone)) == 7 and 'aria-label="Pages"' not in everyone
    assert names_shown(console.http.get(f"{page}?answer=endorse").text) == ["Barry Cusack"]
    assert len(names_shown(console.http.get(f"{page}?answer=none").text)) == 6
    assert console.http.get(f"{page}?answer=maybe").status_code == 400

    monkeypatch.setattr("accord.services.round_pages.RECIPIENTS_SHOWN", 3)
    first = console.http.get(page).text
    assert len(names_shown(first)) == 3 and "Page 1 of 3" in first
    assert 'href="?page=2" rel="next"' in first
    filtered = console.http.get(f"{page}?answer=none&page=2").text
    assert len(names_shown(filtered)) == 3 and "Page 2<" in filtered  # no count when filtered
    assert 'href="?page=1&amp;answer=none" rel="prev"' in filtered
    last = console.http.get(f"{page}?answer=none&page=3").text
    assert "No recipient matches" in last and 'rel="next"' not in last


def test_the_mail_counts_load_after_the_page(ctx: Context, console: Console) -> None:
    rnd = open_round(ctx)
    console.log_in(SECRETARIAT)
    page = console.http.get(f"/console/rounds/{rnd.round_id}").text
    assert f'hx-get="/console/rounds/{rnd.round_id}/mail" hx-trigger="load"' in page
    counts = console.http.get(f"/console/rounds/{rnd.round_id}/mail").text
    assert counts.strip() == "0 sent, 7 queued, 0 failed"
    assert (
        "0 sent, 7 queued, 0 failed"
        in console.http.get(f"/console/rounds/{rnd.round_id}?mail=1").text
    )
    assert console.http.get("/console/rounds/99/mail").status_code == 404


def test_without_a_prefect_ui_no_link_is_shown(ctx: Context, console: Console) -> None:
    rnd = open_round(ctx)
    console.log_in(SECRETARIAT)
    for path in ("/console/", f"/console/rounds/{rnd.round_id}"):
        assert "/runs?" not in console.http.get(path).text


def test_each_round_links_to_its_flow_runs_in_the_prefect_ui(
    ctx: Context, with_prefect_ui: Console
) -> None:
    rnd = open_round(ctx)
    for path in ("/console/", f"/console/rounds/{rnd.round_id}"):
        page = with_prefect_ui.http.get(path).text
        href = page.split(f'href="{UI}/runs?', 1)[1].split('"', 1)[0]
        query = parse_qs(urlsplit(f"?{href}".replace("&amp;", "&")).query)
        assert query["tag"] == [f"round:{rnd.round_id}"]
        assert query["type"] == ["span"] and int(query["seconds"][0]) <= -2 * 86400
