"""Statements and rounds from the console over real HTTP, as the secretariat clicks through
them: each form checked on the server with its error beside the field; each change in the
decision record with the user as actor on the `console` channel."""

from __future__ import annotations

from accord.services.context import Context
from accord.services.members import import_members
from tests.conftest import FIXTURES
from tests.console.helpers import SECRETARIAT, Console, finished_job
from tests.integration.test_web import BARRY

TEXT = "On this day we stand together.\n\nEvery city of the network is invited."


def console_entries(ctx: Context) -> list[tuple[str, str, str]]:
    with ctx.uow(readonly=True) as uow:
        return [
            (e.actor, e.entity_type, e.action)
            for e in uow.audit.entries()
            if e.channel == "console"
        ]


def test_draft_start_answer_remind_close_and_publish(ctx: Context, console: Console) -> None:
    import_members(ctx, FIXTURES / "members.csv")
    console.log_in(SECRETARIAT)
    new = "/console/statements/new"
    empty = console.post(new, {"title": "", "kind": "", "body": ""}, page=new)
    assert empty.status_code == 400
    assert 'id="title-error">Give the statement a title.' in empty.text
    assert 'id="kind-error">Choose a kind.' in empty.text
    form = {"title": "Migrants Day", "kind": "awareness-day", "body": TEXT}
    preview = console.post(new, {**form, "step": "preview"}, page=new)
    assert "Preview: as members will read it" in preview.text
    assert "<p>Every city of the network is invited.</p>" in preview.text
    assert console_entries(ctx) == []  # a preview saves nothing
    saved = console.post(new, {**form, "step": "save"}, page=new)
    assert saved.headers["location"] == "/console/statements/1"
    assert "Migrants Day" in console.http.get("/console/statements").text

    page = "/console/statements/1"
    refused = console.post(
        f"{page}/rounds",
        {"group": "Advisory Group", "rule": "majority", "deadline": "2023-09-01T18:00"},
        page=page,
    )
    assert refused.status_code == 400 and 'id="round-error"' in refused.text  # before any job
    checked = console.post(
        f"{page}/rounds",
        {"group": "Advisory Group", "deadline": "2023-10-20T18:00", "step": "check"},
        page=page,
    )
    assert "The deadline as members will read it" in checked.text
    assert "<td>Australia/Adelaide</td><td>1</td><td>2023-10-21 02:30</td>" in checked.text
    assert console_entries(ctx)[-1] == (SECRETARIAT, "statement", "draft")  # nothing started
    started = console.post(
        f"{page}/rounds",
        {"group": "Advisory Group", "rule": "majority", "deadline": "2023-10-20T18:00"},
        page=page,
    )
    done = finished_job(console, started.headers["location"])
    assert "round 1 started: 7 members asked" in done and 'href="/console/rounds/1"' in done
    round_page = console.http.get("/console/rounds/1").text
    assert "7 pending" in round_page and "queued" in round_page
    assert "(Europe/London)" in round_page  # each member's own time of the deadline

    answered = console.post(
        "/console/rounds/1/answers",
        {"email": BARRY, "decision": "endorse", "comment": "by phone"},
        page="/console/rounds/1",
    )
    assert answered.status_code == 303
    shown = console.http.get("/console/rounds/1").text
    assert "1 endorse" in shown and "by phone" in shown and ">console<" in shown
    reminded = console.post("/console/rounds/1/remind", page="/console/rounds/1")
    assert "6 reminders queued." in reminded.text
    assert console.post("/console/rounds/1/close", page="/console/rounds/1").status_code == 303
    assert "closed" in console.http.get("/console/rounds/1").text
    assert console_entries(ctx)[:2] == [
        (SECRETARIAT, "statement", "draft"),
        (SECRETARIAT, "round", "start"),
    ]
    assert (SECRETARIAT, "round", "remind") in console_entries(ctx)


def test_revise_shows_the_diff_and_warns_of_stale_answers(ctx: Context, console: Console) -> None:
    import_members(ctx, FIXTURES / "members.csv")
    console.log_in(SECRETARIAT)
    new = "/console/statements/new"
    console.post(
        new, {"title": "T", "kind": "awareness-day", "body": TEXT, "step": "save"}, page=new
    )
    started = console.post(
        "/console/statements/1/rounds",
        {"group": "Advisory Group", "rule": "majority", "deadline": "2023-10-20T18:00"},
        page="/console/statements/1",
    )
    finished_job(console, started.headers["location"])
    console.post(
        "/console/rounds/1/answers",
        {"email": BARRY, "decision": "endorse"},
        page="/console/rounds/1",
    )
    revised = TEXT.replace("stand together", "stand side by side")
    path = "/console/statements/1/revise"
    preview = console.post(path, {"body": revised, "step": "preview"}, page=path)
    assert "Round 1 is open: its 1 answers will go stale" in preview.text
    assert 'class="removed"' in preview.text and "stand side by side" in preview.text
    same = console.post(path, {"body": TEXT, "step": "save"}, page=path)
    assert same.status_code == 400 and 'id="body-error"' in same.text
    assert console.post(path, {"body": revised, "step": "save"}, page=path).status_code == 303
    assert "Text, version 2" in console.http.get("/console/statements/1").text
    withdrawn = console.post("/console/statements/1/withdraw", {"reason": ""}, page=path)
    assert 'id="reason-error"' in withdrawn.text


def test_the_cli_lists_statements_too(ctx: Context) -> None:
    import json

    from accord.services.statements import draft_statement
    from tests.cli import run

    draft_statement(ctx, title="First", kind="awareness-day", body=TEXT)
    draft_statement(ctx, title="Second", kind="awareness-day", body=TEXT, political=True)
    listed = json.loads(run("statements", "list", "--json").stdout)
    assert [(s["id"], s["title"], s["state"], s["rounds"]) for s in listed] == [
        (2, "Second", "draft", 0),
        (1, "First", "draft", 0),
    ]
    assert "   1  draft       v1  0 round(s)  First" in run("statements", "list").stdout
