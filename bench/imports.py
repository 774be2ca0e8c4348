"""Import of meeting reports on SQLite, timed once the process is up (modules imported).

Run: .venv/bin/python bench/imports.py [--runs 5] [--actions 2000]
Goals (issue 3): the sample report under 100 ms; a generated report with 2,000 actions under 2 s.
Each run imports into a fresh copy of a migrated database; the median is compared with the goal.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
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
    for number in range(1, (actions + PER_OBJECTIVE - 1) // PER_OBJECTIVE + 1):
        lines += [f"- **Objective {number} – Generated objective number {number}.**", ""]
        lines.append("Agreed actions\tTimeframe for implementation\tResponsible body")
        for n in range((number - 1) * PER_OBJECTIVE, min(actions, number * PER_OBJECTIVE)):
            timeframe = PHRASES[n % len(PHRASES)].format(
                day=n % 28 + 1,
                month=MONTHS[n % len(MONTHS)],
                year=2024 + n % 3,
                quarter=n % 4 + 1,
            )
            who = RESPONSIBLE[n % len(RESPONSIBLE)].format(n=n % 40)
            text = f"Action {n}: do the agreed thing number {n} and report on it."
            lines.append(f"{text}\t{timeframe}\t{who}")
            if n % 25 == 24:
                lines.append("\t13 November 2023\tICC Secretariat")
        lines.append("")
    lines += ["APPENDIX II. LIST OF PARTICIPANTS", "", "Advisory Group members:", ""]
    lines += ["- Barry Cusack, Project officer, City of Bradford, United Kingdom"]
    return "\n".join(lines) + "\n"


def timed(template: Path, report: Path, runs: int) -> list[float]:
    """Seconds to import `report` into fresh copies of the migrated `template` database."""
    times = []
    for _ in range(runs):
        home = Path(tempfile.mkdtemp(dir=template.parent))
        shutil.copy(template, home / "accord.db")
        ctx = Context(load_settings(home=home, database_url=f"sqlite:///{home / 'accord.db'}"))
        ctx.db.engine.connect().close()  # the connection pool is up, as in a running process
        start = time.perf_counter()
        result = import_report(ctx, report)
        times.append(time.perf_counter() - start)
        assert not result.already_imported and result.actions
        ctx.db.dispose()
    return times


def line(label: str, times: list[float], goal: float) -> str:
    median = statistics.median(times)
    verdict = "met" if median < goal else "MISSED"
    return (
        f"{label:<28} median {median * 1000:8.1f} ms  min {min(times) * 1000:8.1f} ms  "
        f"max {max(times) * 1000:8.1f} ms  goal < {goal * 1000:.0f} ms: {verdict} "
        f"({median / goal:.0%} of the goal)"
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
        cases: list[tuple[str, Path, float]] = [
            ("sample report (21 actions)", SAMPLE, 0.1),
            (f"generated ({args.actions} actions)", big, 2.0),
        ]
        print(f"{machine()}; SQLite")
        first = timed(template, SAMPLE, 1)[0]
        print(f"{'first import in the process':<28} {first * 1000:8.1f} ms (not a goal)")
        for label, report, goal in cases:
            print(line(label, timed(template, report, args.runs), goal))
        print(load())
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
