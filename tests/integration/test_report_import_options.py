"""`accord report import` options: --meeting-date, --partial, --dry-run, and a corrected report
imported again (shown; applied with --update, a started action keeping its state)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli import run
from tests.integration.test_report_import import SAMPLE_TEXT, one_line_error, table_counts

CORPUS = Path(__file__).parents[1] / "fixtures" / "reports"
UNDATED = CORPUS / "indicators_no_sections_no_date.txt"
PARTIAL = CORPUS / "museums_partial_2016-09.txt"

SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@SQLITE
def test_a_report_without_a_meeting_date_needs_the_option(ctx: Any) -> None:
    before = table_counts(ctx.settings.db_url)
    line = one_line_error(run("report", "import", UNDATED))
    assert line == (
        "error: no meeting date found in indicators_no_sections_no_date.txt: "
        "give it with --meeting-date YYYY-MM-DD"
    )
    assert table_counts(ctx.settings.db_url) == before
    done = run("report", "import", UNDATED, "--meeting-date", "2024-05-02", "--json")
    assert done.code == 0, done.stderr
    assert json.loads(done.stdout)["meeting"]["date"] == "2024-05-02"
    followup = run("report", "followup").stdout
    assert "## Actions" in followup and "Objective 0" not in followup
    bad = one_line_error(run("report", "import", UNDATED, "--meeting-date", "May 2nd"))
    assert bad == "error: --meeting-date must be a date like 2016-09-29, not 'May 2nd'"


@SQLITE
def test_unreadable_rows_stop_the_import_unless_partial(ctx: Any) -> None:
    before = table_counts(ctx.settings.db_url)
    done = run("report", "import", PARTIAL)
    assert (done.code, done.stdout) == (1, "")
    assert done.stderr.splitlines() == [
        "error: 2 row(s) of museums_partial_2016-09.txt could not be read as actions; "
        "nothing imported (--partial imports the rest):",
        "error: table 1, row 1: a timeframe or body without an action above it: "
        "January 2017 | Coordinator",
        "error: table 1, row 3: no action, timeframe or responsible body in this row: "
        "Comment without an action",
    ]
    assert table_counts(ctx.settings.db_url) == before
    done = run("report", "import", PARTIAL, "--partial")
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("imported meeting 1 'Network of Museums – annual meeting'")
    assert lines[-2:] == [
        "not imported: table 1, row 1: a timeframe or body without an action above it: "
        "January 2017 | Coordinator",
        "not imported: table 1, row 3: no action, timeframe or responsible body in this row: "
        "Comment without an action",
    ]
    assert table_counts(ctx.settings.db_url)["actions"] == 2


@SQLITE
def test_dry_run_shows_the_actions_and_changes_nothing(ctx: Any) -> None:
    before = table_counts(ctx.settings.db_url)
    done = run("report", "import", CORPUS / "board_of_trustees_2024-03.txt", "--dry-run")
    assert done.code == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("would import meeting")
    assert (
        "  O1  2024-09-30  proposed    Revise the charter of the audit committee  [Legal office]"
        in lines
    )
    assert lines[-1] == "dry run: nothing was changed"
    assert table_counts(ctx.settings.db_url) == before
    preview = json.loads(
        run(
            "report", "import", CORPUS / "board_of_trustees_2024-03.txt", "--dry-run", "--json"
        ).stdout
    )
    assert (preview["dry_run"], len(preview["actions"])) == (True, 5)
    assert table_counts(ctx.settings.db_url) == before


def _corrected(folder: Path) -> Path:
    text = SAMPLE_TEXT.replace("\tJuly 2024\t", "\tAugust 2024\t").replace(
        "Update the ICC coordinators mission description", "Rewrite the ICC coordinators mission"
    )
    path = folder / "corrected.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_corrected_report_shows_what_differs_and_update_applies_it(
    ctx: Any, tmp_path: Path
) -> None:
    from tests.conftest import SAMPLE_REPORT

    assert run("report", "import", SAMPLE_REPORT).code == 0
    for trigger, extra in (("assess", ["--outcome", "accepted"]), ("start", [])):
        assert run("actions", trigger, "1", *extra).code == 0
    corrected = _corrected(tmp_path)
    before = table_counts(ctx.settings.db_url)
    shown = run("report", "import", corrected)
    assert shown.code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == (
        "already imported: meeting 1 'Intercultural Cities (ICC) Advisory Group – First meeting – "
        "Summary report and follow up actions'; 2 difference(s) with this file, not applied "
        "(--update applies them):"
    )
    assert lines[2] == "  action 7 (proposed): timeframe: 'July 2024' → 'August 2024'"
    assert lines[1].startswith("  action 1 (in_progress): text: 'Update the ICC coordinators")
    assert table_counts(ctx.settings.db_url) == before

    preview = run("report", "import", corrected, "--update", "--dry-run").stdout.splitlines()
    assert "2 difference(s) with this file, to be applied by --update:" in preview[0]
    assert preview[-1] == "dry run: nothing was changed"
    assert table_counts(ctx.settings.db_url) == before

    applied = run("report", "import", corrected, "--update")
    assert applied.code == 0, applied.stderr
    assert applied.stdout.splitlines()[2].endswith("[updated]")
    assert applied.stdout.splitlines()[1].endswith("[started: kept its state, noted]")
    seventh = json.loads(run("actions", "show", "7", "--json").stdout)
    assert (seventh["timeframe"]["raw"], seventh["timeframe"]["due"]) == (
        "August 2024",
        "2024-08-31",
    )
    assert seventh["history"][-1]["action"] == "correct"
    assert seventh["history"][-1]["payload"]["changes"] == {
        "timeframe": ["July 2024", "August 2024"]
    }
    first = json.loads(run("actions", "show", "1", "--json").stdout)
    assert first["state"] == "in_progress"
    assert first["text"].startswith("Update the ICC coordinators")
    assert first["last_note"].startswith(
        "The corrected report corrected.txt says: text now 'Rewrite the ICC coordinators"
    )
    assert first["history"][-1]["action"] == "note"
    again = run("report", "import", corrected).stdout.splitlines()
    assert len(again) == 2  # the started action still differs: its text was only noted
    assert again[1].startswith("  action 1 (in_progress): text:")
    assert run("audit", "verify").code == 0
