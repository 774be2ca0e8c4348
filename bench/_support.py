"""What the benchmark scripts share: the machine line, fresh databases (SQLite or PostgreSQL),
bulk members, the SMTP sink process, and running a command while measuring its peak memory.

Not a benchmark itself. Everything listens and connects on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PYTHON = sys.executable
ACCORD = str(Path(sys.executable).parent / "accord")
PG_ADMIN = os.environ.get("ACCORD_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

STATEMENT = """On International Migrants Day, the members of the Intercultural Cities network
restate their commitment to cities where everyone, whatever their origin, can take part in the
life of the community and contribute to its prosperity.

Diversity is an advantage for our cities when it is managed well: intercultural policies build
trust between residents, open public institutions to all, and turn the skills and experience of
newcomers into shared opportunities. We call on national and European authorities to support
local governments in this work, with the means to welcome, include and protect migrants.

We invite all residents to join the events organised in our cities this week, to meet their
neighbours, and to celebrate the contributions of migrants to our common future.
"""


def machine() -> str:
    """One line: CPU, cores, memory, Python, and the load averages right now."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration):
        memory = "? RAM"
    return (
        f"machine: {model}, {os.cpu_count()} cores, {memory}, Python {platform.python_version()}, "
        f"{load()}"
    )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass
class Store:
    """A fresh, migrated accord database with its home folder; `env` runs commands on it."""

    home: Path
    url: str
    pg_name: str | None = None

    @property
    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("ACCORD_", "PREFECT_API_URL"))
        }
        env.update(
            ACCORD_HOME=str(self.home),
            ACCORD_DATABASE_URL=self.url,
            ACCORD_MAIL_FROM="secretariat@bench.example.org",
            ACCORD_PUBLIC_URL="http://127.0.0.1:8000",
        )
        return env

    def context(self, **settings: object):  # type: ignore[no-untyped-def]
        from accord.config import load_settings
        from accord.services.context import Context

        return Context(
            load_settings(
                home=self.home,
                database_url=self.url,
                mail_from="secretariat@bench.example.org",
                **settings,
            )
        )


@contextmanager
def fresh_store(backend: str = "sqlite") -> Iterator[Store]:
    """A migrated database (what `accord init` makes), removed afterwards."""
    from accord.services.setup import seed_kinds
    from storage.migrate import upgrade
    from storage.uow import Database

    home = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    pg_name = None
    if backend == "postgresql":
        pg_name = f"accord_bench_{uuid.uuid4().hex[:10]}"
        _pg_admin(f'CREATE DATABASE "{pg_name}"')
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        url = f"{base}/{pg_name}"
    elif backend == "sqlite":
        url = f"sqlite:///{home / 'accord.db'}"
    else:
        raise ValueError(f"unknown backend {backend}")
    db = Database(url)
    try:
        upgrade(db.engine)
        seed_kinds(db)
    finally:
        db.dispose()
    try:
        yield Store(home, url, pg_name)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        if pg_name:
            _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def add_members(store: Store, count: int, group: str = "Bench", *, start: int = 0) -> None:
    """`count` members of `group`, with one Core insert per table (not a thing being measured)."""
    from sqlalchemy import func, select

    from storage import tables as t
    from storage.uow import Database

    db = Database(store.url)
    try:
        with db.uow() as uow:
            target = uow.groups.get_or_create(group)
            uow.flush()
            first = int(uow.session.scalar(select(func.max(t.members.c.id))) or 0) + 1
            languages = ("en", "en", "en", "fr")
            zones = ("Europe/Paris", "Europe/London", "Europe/Oslo", "America/Montreal")
            for offset in range(0, count, 10_000):
                chunk = range(offset, min(count, offset + 10_000))
                uow.session.execute(
                    t.members.insert(),
                    [
                        {
                            "id": first + n,
                            "email": f"member{start + n:06d}@example.org",
                            "name": f"Member {start + n:06d}",
                            "organisation": f"City {n % 150}",
                            "language": languages[n % 4],
                            "timezone": zones[n % 4],
                            "undeliverable": False,
                        }
                        for n in chunk
                    ],
                )
                uow.session.execute(
                    t.memberships.insert(),
                    [{"member_id": first + n, "group_id": target.id} for n in chunk],
                )
            uow.commit()
    finally:
        db.dispose()


def draft(store: Store, title: str = "International Migrants Day") -> int:
    from accord.services.statements import draft_statement

    ctx = store.context()
    try:
        return int(draft_statement(ctx, title=title, kind="awareness-day", body=STATEMENT).id)
    finally:
        ctx.db.dispose()


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str
    cpu: float = 0.0  # user + system seconds of the child


def run_measured(args: Sequence[str], env: dict[str, str], timeout: float = 900) -> Run:
    """Run a command; its wall time, CPU time and peak resident memory (rusage of that child)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(args), env=env, stdout=out, stderr=err, cwd=ROOT)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                raise TimeoutError(f"{args[0]} took over {timeout} s")
            time.sleep(0.002)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}): {stderr[-2000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, stdout, stderr, usage.ru_utime + usage.ru_stime)


class Sink:
    """The SMTP sink (bench/smtp_sink.py) in its own process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, str(BENCH / "smtp_sink.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "port":
            self.proc.kill()
            raise RuntimeError("the SMTP sink did not start")
        self.port = int(line[1])

    def count(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline().split()[1])

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
