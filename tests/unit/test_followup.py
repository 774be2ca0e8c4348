"""The follow-up report from actions as services show them: grouping, marks, the three formats."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import docx
import pytest

from accord.reports.followup import FollowUp, build_followup, write_followup
from accord.services.actions import (
    ActionView,
    MilestoneView,
    ObjectiveRef,
    ResponsibleBody,
    TimeframeView,
)
from accord.services.reports import MeetingView
from statemachines.errors import InvalidInput

MEETING = MeetingView(
    id=1,
    body="ICC Advisory Group",
    title="ICC Advisory Group – First meeting",
    name="First meeting",
    date="2023-07-04",
    ends_on="2023-07-04",
    place="Strasbourg, France",
    next_meeting="2023-11-13",
    source_name="report.txt",
    source_sha256="0" * 64,
)


def action(
    action_id: int,
    objective: int,
    text: str,
    *,
    state: str = "proposed",
    due: str | None = "2023-09-30",
    overdue: bool = False,
    **fields: Any,
) -> ActionView:
    responsible = fields.get("responsible", [("ICC Secretariat", "lead")])
    return ActionView(
        id=action_id,
        meeting_id=1,
        objective=ObjectiveRef(objective, f"Objective title {objective}"),
        position=action_id,
        text=text,
        state=state,
        assessment=fields.get("assessment"),
        overdue=overdue,
        responsible=[ResponsibleBody(name, role) for name, role in responsible],
        timeframe=TimeframeView(
            raw=fields.get("raw", "September 2023"),
            start=None,
            end=None,
            due=due,
            precision=None,
            tentative=False,
            ongoing=fields.get("ongoing", False),
            recurrence=None,
            meeting=None,
            unparsed=False,
            milestones=fields.get("milestones", []),
        ),
        last_note=fields.get("last_note"),
        drop_reason=fields.get("drop_reason"),
        occurrence=1,
        previous_id=None,
    )


ACTIONS = [
    action(
        3,
        2,
        "Short videos | real stories",
        overdue=True,
        responsible=[("Bradford", "lead"), ("ICC Secretariat", "support")],
    ),
    action(1, 1, "Update the mission description", state="in_progress", assessment="accepted",
           last_note="Draft sent"),
    action(4, 2, "Increase meetings", due=None, ongoing=True, raw="Ongoing"),
    action(2, 1, "Add as an appendix", state="dropped", drop_reason="Covered elsewhere"),
    action(
        5,
        4,
        "<script>alert('x')</script> R&D questions",
        raw="Mid-October 2023",
        milestones=[MilestoneView("2023-11-13", "13 November 2023", "day")],
    ),
]  # fmt: skip


@pytest.fixture
def report() -> FollowUp:
    return build_followup(MEETING, ACTIONS, date(2023, 10, 1))


def test_grouped_by_objective_in_order_with_labels(report: FollowUp) -> None:
    assert [(s.number, [r.action_id for r in s.rows]) for s in report.sections] == [
        (1, [1, 2]),
        (2, [3, 4]),
        (4, [5]),
    ]
    rows = {row.action_id: row for section in report.sections for row in section.rows}
    assert rows[1].state == "in progress (accepted)"
    assert rows[2].state == "dropped: Covered elsewhere"
    assert rows[3].responsible == "Bradford, ICC Secretariat (support)"
    assert rows[4].due == "ongoing"
    assert rows[5].milestones == ("2023-11-13: 13 November 2023",)
    assert (report.total, report.overdue) == (5, 1)
    assert report.facts == (
        "Meeting of 2023-07-04, Strasbourg, France; next meeting 2023-11-13. "
        "Status on 2023-10-01: 5 actions, 1 overdue."
    )


def test_markdown_has_one_row_per_action_and_marks_overdue(report: FollowUp) -> None:
    text = write_followup(report, "md", None)
    assert text is not None
    assert "## Objective 2 – Objective title 2" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 5 + 3  # actions and one header per objective
    videos = next(line for line in rows if line.startswith("| 3 |"))
    assert "Short videos \\| real stories" in videos  # the pipe cannot split the row
    assert videos.endswith("| proposed **OVERDUE** |  |")
    assert "| Mid-October 2023; 2023-11-13: 13 November 2023 |" in text


def test_html_is_escaped_and_marks_overdue_rows(report: FollowUp, tmp_path: Path) -> None:
    output = tmp_path / "followup.html"
    assert write_followup(report, "html", output) is None
    html = output.read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; R&amp;D questions" in html
    assert html.count('<tr class="overdue">') == 1
    assert html.count("<tr>") == 3 + 4  # header rows and the rows not overdue


def test_docx_has_a_table_per_objective(report: FollowUp, tmp_path: Path) -> None:
    output = tmp_path / "followup.docx"
    assert write_followup(report, "docx", output) is None
    document = docx.Document(str(output))
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    ]
    assert [len(table) for table in tables] == [3, 3, 2]
    header, videos, ongoing = tables[1]
    assert header == ["#", "Action", "Timeframe", "Due", "Responsible", "State", "Last note"]
    assert videos == [
        "3",
        "Short videos | real stories",
        "September 2023",
        "2023-09-30",
        "Bradford, ICC Secretariat (support)",
        "proposed OVERDUE",
        "",
    ]
    assert ongoing[3] == "ongoing"
    assert tables[2][1][2] == "Mid-October 2023\n2023-11-13: 13 November 2023"


@pytest.mark.parametrize(
    ("fmt", "output", "reason"),
    [
        ("docx", None, "a docx follow-up needs --output FILE"),
        ("pdf", None, "unknown format 'pdf' (use md, html, docx)"),
        ("md", Path("/nonexistent/folder/f.md"), "cannot write /nonexistent/folder/f.md"),
    ],
)
def test_refusals(report: FollowUp, fmt: str, output: Path | None, reason: str) -> None:
    with pytest.raises(InvalidInput, match="^" + re.escape(reason)):
        write_followup(report, fmt, output)
