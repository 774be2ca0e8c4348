"""Import of meeting reports on SQLite, timed once the process is up (modules imported).

Run: .venv/bin/python bench/imports.py [--runs 5] [--actions 2000]
Goals (issue 3): the sample report under 100 ms; a generated report with 2,000 actions under 2 s.
Goal (issue 20): the same 2,000 actions as a PDF (made here with reportlab: ruled tables over
about 120 pages) under 10 s, reported beside the same report as text, the baseline measured in
the same run. Each run imports into a fresh copy of a migrated database; the median is compared
with the goal, and the CPU time of the process is printed beside it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _support import load, machine

from accord.config import load_settings
from accord.services.context import Context
from accord.services.reports import import_report
from accord.services.setup import seed_kinds
from storage.migrate import upgrade
from storage.uow import Database

SAMPLE = Path(__file__).resolve().parents[1] / "accord/samples/icc_advisory_group_2023-07.txt"
PHRASES = (
    "{month} {year}",
    "End of {month} {year}",
    "Mid-{month} {year}",
    "{day} {month} {year}",
    "By next meeting (13 November 2023)",
    "Spring {year} (tentative, availability of the city of Bradford to be confirmed)",
    "Starting in {year} and repeating every year",
    "To be taken into account for the planning of {year}",
    "Ongoing – to be taken into account in ICC calendar planning",
    "Propose questions to the Advisory Group by mid-{month} {year}; "
    "to be discussed at next Advisory Group meeting in November",
    "Q{quarter} {year}",
)
MONTHS = ("January", "March", "May", "June", "September", "October", "December")
RESPONSIBLE = (
    "ICC Secretariat",
    "Bradford Stavanger Reykjavik With the support of ICC Secretariat",
    "ICC members Bradford Stavanger",
    "Members of the Advisory Group",
    "ICC Spanish network",
    "Bradford and ICC Secretariat",
    "Working group {n}",
)
PER_OBJECTIVE = 100


def generated_rows(actions: int) -> list[tuple[int, list[tuple[str, str, str]]]]:
    """(objective number, its rows: action, timeframe, body), 100 actions an objective and a
    milestone row (no action text) every 25 actions."""
    objectives = []
    for number in range(1, (actions + PER_OBJECTIVE - 1) // PER_OBJECTIVE + 1):
        rows = []
        for n in range((number - 1) * PER_OBJECTIVE, min(actions, number * PER_OBJECTIVE)):
            timeframe = PHRASES[n % len(PHRASES)].format(
                day=n % 28 + 1,
                month=MONTHS[n % len(MONTHS)],
                year=2024 + n % 3,
                quarter=n % 4 + 1,
            )
            who = RESPONSIBLE[n % len(RESPONSIBLE)].format(n=n % 40)
            rows.append(
                (f"Action {n}: do the agreed thing number {n} and report on it.", timeframe, who)
            )
            if n % 25 == 24:
                rows.append(("", "13 November 2023", "ICC Secretariat"))
        objectives.append((number, rows))
    return objectives


def generated_report(actions: int) -> str:
    """A report in the sample's shape: the meeting header, objectives with 100 actions each,
    a milestone row every 25 actions, and a participant list."""
    lines = [
        "ICC Advisory Group",
        "",
        "Generated meeting",
        "",
        "4-5 July 2023 – Strasbourg, France",
        "",
        "Summary report and follow up actions",
        "",
    ]
    for number, rows in generated_rows(actions):
        lines += [f"- **Objective {number} – Generated objective number {number}.**", ""]
        lines.append("Agreed actions\tTimeframe for implementation\tResponsible body")
        lines += ["\t".join(row) for row in rows]
        lines.append("")
    lines += ["APPENDIX II. LIST OF PARTICIPANTS", "", "Advisory Group members:", ""]
    lines += ["- Barry Cusack, Project officer, City of Bradford, United Kingdom"]
    return "\n".join(lines) + "\n"


def generated_pdf(actions: int, path: Path) -> None:
    """The same report as a PDF: ruled tables (one an objective, running over pages with their
    header repeated), bold objective headings, page numbers."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    cell = styles["BodyText"]
    story: list[object] = [
        Paragraph("ICC Advisory Group", styles["Title"]),
        Paragraph("Generated meeting", styles["Normal"]),
        Paragraph("4-5 July 2023 – Strasbourg, France", styles["Normal"]),
        Paragraph("Summary report and follow up actions", styles["Normal"]),
    ]
    header = ["Agreed actions", "Timeframe for implementation", "Responsible body"]
    for number, rows in generated_rows(actions):
        heading = f"Objective {number} – Generated objective number {number}."
        table = Table(
            [header, *([Paragraph(text, cell) for text in row] for row in rows)],
            colWidths=[220, 150, 120],
            repeatRows=1,
        )
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
        story += [Paragraph(heading, styles["Heading3"]), table, Spacer(1, 12)]

    def page_number(canvas: object, document: object) -> None:
        canvas.drawString(290, 20, str(document.page))  # type: ignore[attr-defined]

    SimpleDocTemplate(str(path), pagesize=A4).build(
        story, onFirstPage=page_number, onLaterPages=page_number
    )


@dataclass(frozen=True)
class Timing:
    wall: list[float]
    cpu: list[float]


def timed(template: Path, report: Path, runs: int) -> Timing:
    """Seconds (wall and CPU) to import `report` into fresh copies of the migrated `template`."""
    wall, cpu = [], []
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(dir=template.parent))
        shutil.copy(template, home / "accord.db")
        ctx = Context(load_settings(home=home, database_url=f"sqlite:///{home / 'accord.db'}"))
        ctx.db.engine.connect().close()  # the connection pool is up, as in a running process
        start, start_cpu = time.perf_counter(), time.process_time()
        result = import_report(ctx, report)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert not result.already_imported and result.actions
        ctx.db.dispose()
    return Timing(wall, cpu)


def line(label: str, timing: Timing, goal: float) -> str:
    median = statistics.median(timing.wall)
    verdict = "met" if median < goal else "MISSED"
    return (
        f"{label:<28} median {median * 1000:8.1f} ms  min {min(timing.wall) * 1000:8.1f} ms  "
        f"max {max(timing.wall) * 1000:8.1f} ms  CPU {statistics.median(timing.cpu) * 1000:8.1f} ms"
        f"  goal < {goal * 1000:.0f} ms: {verdict} ({median / goal:.0%} of the goal)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--actions", type=int, default=2000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accord-bench-imports-"))
    try:
        template = work / "template.db"
        db = Database(f"sqlite:///{template}")
        upgrade(db.engine)
        seed_kinds(db)
        db.dispose()
        big = work / "generated.txt"
        big.write_text(generated_report(args.actions), encoding="utf-8")
        pdf = work / "generated.pdf"
        generated_pdf(args.actions, pdf)
        print(f"{machine()}; SQLite")
        first = timed(template, SAMPLE, 1).wall[0]
        print(f"{'first import in the process':<28} {first * 1000:8.1f} ms (not a goal)")
        print(line("sample report (21 actions)", timed(template, SAMPLE, args.runs), 0.1))
        text = timed(template, big, args.runs)
        print(line(f"generated ({args.actions} actions)", text, 2.0))
        as_pdf = timed(template, pdf, args.runs)
        print(line(f"as PDF ({args.actions} actions)", as_pdf, 10.0))
        after = timed(template, big, args.runs)
        baseline = statistics.median(text.wall + after.wall)
        print(
            f"{'PDF / text (same run)':<28} {statistics.median(as_pdf.wall) / baseline:.1f} times "
            f"the text import (text before and after: {statistics.median(text.wall):.2f} s, "
            f"{statistics.median(after.wall):.2f} s)"
        )
        print(load())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
