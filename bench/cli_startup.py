"""Start-up of the `accord` command: median wall time of `accord --help` (and other commands).

Run: .venv/bin/python bench/cli_startup.py [--runs 21]
Goal (issue 2): `accord --help` median under 0.5 s; (issue 8) under 0.3 s. It also prints which
heavy packages the help path imports (it must import neither Prefect nor SQLAlchemy).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ACCORD = str(Path(sys.executable).parent / "accord")
HEAVY = ("prefect", "sqlalchemy", "fastapi", "jinja2", "alembic", "transitions")


def timed(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([ACCORD, *args], env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    home = tempfile.mkdtemp(prefix="accord-bench-")
    env = {**os.environ, "ACCORD_HOME": home}
    subprocess.run([ACCORD, "init"], env=env, capture_output=True, check=True)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    for label, args, goal in [
        ("accord --help", ["--help"], 0.5),
        ("accord members list", ["members", "list"], None),
    ]:
        times = timed(args, env, runs)
        median = statistics.median(times)
        verdict = (
            "" if goal is None else f"  goal < {goal:.2f} s: {'met' if median < goal else 'MISSED'}"
        )
        print(
            f"{label:<22} median {median:.3f} s  min {min(times):.3f} s  "
            f"max {max(times):.3f} s  ({runs} runs){verdict}"
        )
    heavy = heavy_imports_of_help()
    print(f"heavy packages imported by --help: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
