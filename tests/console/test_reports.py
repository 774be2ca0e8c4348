"""Reports from the console over real HTTP: upload, preview (nothing imported), confirm; a file
that is not a report refused beside the field; the follow-up report downloaded."""

from __future__ import annotations

from accord.services.context import Context
from tests.conftest import SAMPLE_REPORT
from tests.console.helpers import SECRETARIAT, Console, snapshot


def upload(console: Console, name: str, data: bytes) -> object:
    token = console.token("/console/reports")
    return console.http.post(
        "/console/reports/upload", data={"csrf_token": token}, files={"report": (name, data)}
    )


def test_upload_preview_confirm_and_download_the_followup(ctx: Context, console: Console) -> None:
    console.log_in(SECRETARIAT)
    assert console.http.get("/console/reports/followup.docx").status_code == 404  # no meeting
    before = snapshot(ctx)
    sent = upload(console, "icc-2023-07.txt", SAMPLE_REPORT.read_bytes())
    preview_url = sent.headers["location"]
    preview = console.http.get(preview_url).text
    assert "Preview of icc-2023-07.txt" in preview
    assert "Objective 1" in preview and "2023-09-30" in preview and "ICC Secretariat" in preview
    assert snapshot(ctx) == before  # nothing imported yet

    done = console.post(f"{preview_url}/import", page=preview_url)
    assert done.headers["location"].startswith("/console/actions?meeting=")
    assert snapshot(ctx)["meetings"] and console.http.get(preview_url).status_code == 404
    with ctx.uow(readonly=True) as uow:
        [entry] = [e for e in uow.audit.entries("meeting")]
    assert (entry.actor, entry.channel, entry.action) == (SECRETARIAT, "console", "import")

    docx = console.http.get("/console/reports/followup.docx")
    assert docx.status_code == 200 and docx.content.startswith(b"PK")
    assert 'filename="followup.docx"' in docx.headers["content-disposition"]
    assert "Objective 1" in console.http.get("/console/reports/followup.md").text


def test_a_file_that_is_not_a_report_is_refused_beside_the_field(
    ctx: Context, console: Console
) -> None:
    console.log_in(SECRETARIAT)
    before = snapshot(ctx)
    wrong = upload(console, "minutes.odt", b"PK")
    assert wrong.status_code == 400
    refusal = 'id="report-error">&#39;minutes.odt&#39; is not a .txt, .md, .docx or .pdf report'
    assert refusal in wrong.text
    marked_up = upload(console, "<i>x.odt", b"PK")  # what a user typed is escaped
    assert "&lt;i&gt;x.odt" in marked_up.text and "<i>x" not in marked_up.text
    unreadable = upload(console, "notes.txt", b"just some notes, no meeting here")
    assert unreadable.status_code == 400 and 'id="report-error"' in unreadable.text
    assert snapshot(ctx) == before
    assert not list((ctx.settings.home / "uploads").glob("*/*"))  # the bad upload is not kept
