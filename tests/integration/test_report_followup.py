"""`accord report followup` on SQLite and PostgreSQL: the sample's actions as md, html and docx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docx

from tests.cli import run
from tests.conftest import SAMPLE_REPORT
from tests.integration.test_report_import import import_json, one_line_error

OVERDUE_ON_FIXED_NOW = 5


def test_followup_in_three_formats(ctx: Any, tmp_path: Path) -> None:
    assert one_line_error(run("report", "followup")) == (
        "error: no meeting imported yet: run `accord report import FILE` first"
    )
    ids = {a["position"]: a["id"] for a in import_json(SAMPLE_REPORT)["actions"]}
    assessed = run("actions", "assess", ids[2], "--outcome", "accepted", "--note", "Legal check")
    assert assessed.code == 0

    markdown = run("report", "followup")
    assert markdown.code == 0, markdown.stderr
    rows = [line for line in markdown.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 21 + 5  # one per action and a header per objective
    assert markdown.stdout.count("**OVERDUE**") == OVERDUE_ON_FIXED_NOW
    assert "## Objective 6 – Ensure member cities’ participation" in markdown.stdout
    assert "| assessed (accepted) | Legal check |" in markdown.stdout
    assert "| Bradford, Stavanger, Reykjavik, ICC Secretariat (support) |" in markdown.stdout

    html_file = tmp_path / "followup.html"
    done = run("report", "followup", "--format", "html", "--output", html_file)
    assert (done.code, done.stdout) == (0, f"wrote {html_file}\n")
    assert html_file.read_text(encoding="utf-8").count('<tr class="overdue">') == 5

    docx_file = tmp_path / "followup.docx"
    assert run("report", "followup", "--format", "docx", "--output", docx_file).code == 0
    tables = docx.Document(str(docx_file)).tables
    assert [len(table.rows) - 1 for table in tables] == [2, 12, 4, 2, 1]
    states = [row.cells[5].text for table in tables for row in table.rows[1:]]
    assert sum(state.endswith("OVERDUE") for state in states) == OVERDUE_ON_FIXED_NOW

    assert one_line_error(run("report", "followup", "--format", "docx")) == (
        "error: a docx follow-up needs --output FILE"
    )
    assert one_line_error(run("report", "followup", "--meeting", "99")) == (
        "error: no meeting with id 99"
    )
