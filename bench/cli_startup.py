"""Start-up of the `accord` command: median wall time of `accord --help` (and other commands).

Run: .venv/bin/python bench/cli_startup.py [--runs 21] [--db sqlite,postgresql]
Goals (issue 8): `accord --help` median under 0.3 s (issue 2 asked for 0.5 s); `accord rounds
status` of a round of 7 members under 0.6 s, on SQLite (and on PostgreSQL, printed below it).
The CPU time of each command's process is printed too: on a machine shared with other work it is
steadier than the wall time. It also prints which heavy packages the help path imports (it must
import neither Prefect nor SQLAlchemy), and the heaviest imports of `rounds status`
(`-X importtime`).

The commands run as the environment has them: with PYTHONDONTWRITEBYTECODE=1 (as on the
reference machine) accord's own modules are compiled from source on every run, about 20-30 ms
that an ordinary install (with its `__pycache__`) does not spend.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _support import PG_ADMIN, _pg_admin, load, machine

ACCORD = str(Path(sys.executable).parent / "accord")
HEAVY = ("prefect", "sqlalchemy", "fastapi", "jinja2", "alembic", "transitions")


def timed(args: list[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """Wall times and CPU times (user + system of the command's process) of `runs` runs."""
    times, cpu = [], []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.Popen(
            [ACCORD, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        cpu.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"accord {' '.join(args)} failed")
    return times, cpu


def heavy_imports_of_help() -> list[str]:
    probe = (
        "import contextlib, io, sys; sys.argv=['accord','--help']\n"
        "from accord.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def small_round(env: dict[str, str]) -> str:
    """The sample members and a round to them (mail left in the outbox); the round's id."""
    members = Path(__file__).resolve().parents[1] / "tests/fixtures/members.csv"
    subprocess.run(
        [ACCORD, "members", "import", str(members)], env=env, check=True, capture_output=True
    )
    body = Path(env["ACCORD_HOME"]) / "statement.txt"
    body.write_text("On International Migrants Day, we restate our shared values.\n")
    out = subprocess.run(
        [
            ACCORD,
            "statements",
            "draft",
            "--title",
            "Migrants Day",
            "--kind",
            "awareness-day",
            "--body-file",
            str(body),
            "--json",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    statement = json.loads(out)["id"]
    groups = subprocess.run(
        [ACCORD, "members", "list", "--json"], env=env, check=True, capture_output=True, text=True
    ).stdout
    group = json.loads(groups)[0]["groups"][0]
    # No SMTP server listens on this port: the mail stays in the outbox, the round is open.
    out = subprocess.run(
        [
            ACCORD,
            "rounds",
            "start",
            str(statement),
            "--group",
            group,
            "--rule",
            "majority",
            "--deadline",
            "2099-01-01T12:00",
            "--json",
        ],
        env={**env, "ACCORD_SMTP_PORT": "9"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return str(json.loads(out)["id"])


def import_profile(env: dict[str, str], args: list[str], top: int = 8) -> str:
    """The heaviest top-level imports (cumulative) of one command, from -X importtime."""
    code = f"import sys; sys.argv={['accord', *args]!r}; from accord.cli import main; main()"
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], env=env, capture_output=True, text=True
    ).stderr
    rows = []
    for line in err.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            rows.append((int(parts[1]), parts[2].strip()))
    total = sum(us for us, _ in rows)
    heavy = sorted(rows, reverse=True)[:top]
    return f"{total / 1e6:.2f} s in all: " + ", ".join(f"{m} {us / 1e6:.2f}" for us, m in heavy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--db", default="sqlite,postgresql", help="where `rounds status` reads")
    args = parser.parse_args()
    runs = args.runs
    print(machine())
    home = tempfile.mkdtemp(prefix="accord-bench-")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ACCORD_", "PREFECT_API"))}
    env = {**base, "ACCORD_HOME": home}
    subprocess.run([ACCORD, "init"], env=env, capture_output=True, check=True)
    round_id = small_round(env)
    cases: list[tuple[str, list[str], float | None, dict[str, str]]] = [
        ("accord --help", ["--help"], 0.3, env)
    ]
    pg_name = None
    for backend in args.db.split(","):
        if backend == "sqlite":
            cases.append(("accord rounds status", ["rounds", "status", round_id], 0.6, env))
        elif backend == "postgresql":
            pg_name = f"accord_bench_{uuid.uuid4().hex[:10]}"
            _pg_admin(f'CREATE DATABASE "{pg_name}"')
            pg_home = tempfile.mkdtemp(prefix="accord-bench-")
            url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
            pg_env = {**base, "ACCORD_HOME": pg_home, "ACCORD_DATABASE_URL": f"{url}/{pg_name}"}
            subprocess.run([ACCORD, "init"], env=pg_env, capture_output=True, check=True)
            pg_round = small_round(pg_env)
            cases.append(("  ... on PostgreSQL", ["rounds", "status", pg_round], 0.6, pg_env))
    cases.append(("accord members list", ["members", "list"], None, env))
    try:
        for label, command, goal, case_env in cases:
            times, cpu = timed(command, case_env, runs)
            median = statistics.median(times)
            verdict = (
                ""
                if goal is None
                else f"  goal < {goal:.2f} s: {'met' if median < goal else 'MISSED'}"
            )
            print(
                f"{label:<22} median {median:.3f} s  min {min(times):.3f} s  "
                f"max {max(times):.3f} s  CPU median {statistics.median(cpu):.3f} s  "
                f"({runs} runs){verdict}"
            )
    finally:
        if pg_name:
            _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    heavy = heavy_imports_of_help()
    print(f"heavy packages imported by --help: {', '.join(heavy) or 'none'}")
    print(f"imports of rounds status: {import_profile(env, ['rounds', 'status', round_id])}")
    print(load())


if __name__ == "__main__":
    main()
