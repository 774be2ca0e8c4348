"""`accord members import` of a generated CSV of 10,000 members: wall time of the whole command.

Run: .venv/bin/python bench/members_import.py [--members 10000] [--repeat 3] [--db sqlite]
Goal (issue 8): 10,000 members in under 3 s (into an empty database). Also timed, not goals: the
same file again (every row unchanged) and a file where every member changed (updates).
Each repetition uses a fresh migrated database.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _support import ACCORD, fresh_store, load, machine, median, run_measured

ZONES = ("Europe/Paris", "Europe/London", "Europe/Oslo", "America/Montreal", "Asia/Tokyo")
LANGUAGES = ("en", "fr", "en-GB", "fr-BE", "de")


def write_csv(path: Path, count: int, organisation: str = "City") -> None:
    lines = ["name,email,organisation,groups,language,timezone"]
    for n in range(count):
        groups = "Advisory Group;Network" if n % 10 == 0 else "Network"
        lines.append(
            f"Member {n:06d} Æsøy,member{n:06d}@Example.org,{organisation} {n % 150},"
            f"{groups},{LANGUAGES[n % 5]},{ZONES[n % 5]}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="accord-bench-members-"))
    first, changed = work / "members.csv", work / "changed.csv"
    write_csv(first, args.members)
    write_csv(changed, args.members, organisation="Town")
    print(machine())
    times: dict[str, list[float]] = {"new": [], "unchanged": [], "updated": []}
    cpu: dict[str, list[float]] = {"new": [], "unchanged": [], "updated": []}
    peaks: list[float] = []
    for _ in range(args.repeat):
        with fresh_store(args.db) as store:
            for label, path in (("new", first), ("unchanged", first), ("updated", changed)):
                run = run_measured([ACCORD, "members", "import", str(path), "--json"], store.env)
                times[label].append(run.seconds)
                cpu[label].append(run.cpu)
                if label == "new":
                    peaks.append(run.peak_mb)
    for label, values in times.items():
        goal = (
            f"  goal < 3 s: {'met' if median(values) < 3 else 'MISSED'}" if label == "new" else ""
        )
        print(
            f"{args.members} members, {label:<9} median {median(values):6.2f} s  "
            f"min {min(values):6.2f}  max {max(values):6.2f}  "
            f"CPU median {median(cpu[label]):5.2f} s"
            f" ({args.repeat} runs, {args.db}){goal}"
        )
    print(f"peak memory (new) {median(peaks):.0f} MB; {load()}")


if __name__ == "__main__":
    main()
