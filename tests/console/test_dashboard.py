"""The dashboard over real HTTP: an open round with its tally (and the fragment htmx polls),
actions due, the next meeting, the record's last entries; French when chosen."""

from __future__ import annotations

from accord.services.context import Context
from accord.services.reports import import_report
from tests.conftest import SAMPLE_REPORT
from tests.console.helpers import SECRETARIAT, Console
from tests.integration.test_web import BARRY, TITLE, open_round


def test_the_dashboard_shows_rounds_actions_meeting_and_record(
    ctx: Context, console: Console
) -> None:
    import_report(ctx, SAMPLE_REPORT)
    rnd = open_round(ctx)
    console.log_in(SECRETARIAT)
    page = console.http.get("/console/").text
    assert TITLE in page and "Advisory Group" in page
    assert "0 endorse" in page and "7 pending" in page
    assert 'hx-get="/console/fragments/rounds"' in page and 'hx-trigger="every 5s"' in page
    assert "overdue" in page  # the sample report's actions, on the test clock
    assert "Next meeting" in page
    with ctx.uow(readonly=True) as uow:
        entries = uow.audit.entries()
    assert page.count("<tr><td>") == min(10, len(entries))  # the record's last entries
    assert f"<tr><td>{entries[-1].seq}</td>" in page

    answered = console.http.post(f"/r/{rnd.token(BARRY)}", data={"decision": "endorse"})
    assert answered.status_code == 200  # the member, by their link, on the same app
    fragment = console.http.get("/console/fragments/rounds").text
    assert fragment.startswith('<div id="open-rounds"') and "<html" not in fragment
    assert "1 endorse" in fragment and "6 pending" in fragment
