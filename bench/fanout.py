"""Fan-out: `accord rounds start` to a group of N members, delivering to an SMTP sink, against raw
aiosmtplib sending N prebuilt messages of the same size over 8 reused connections to the same sink.

Run: .venv/bin/python bench/fanout.py [--sizes 1000,10000,50000] [--repeat 3] [--db sqlite]
Goals (issue 8): at 10,000 recipients the command's throughput (recipients / wall time of the
whole command: start-up, recipients and outbox rows, rendering, sending, marking, printing) is at
least 0.5 of raw (aim 0.8), and its peak memory stays under 300 MB; from 1,000 to 50,000 the time
grows linearly or better.

Each repetition uses a fresh database and the same sink; raw is measured just before and just
after the command, each in its own process (so is the sink: neither shares the sender's GIL).
"CPU ms/mail" is the CPU time (user + system) of the whole `accord rounds start` process and of
the whole raw process, per message: on a machine shared with other work it is steadier than the
wall time, and it shows what accord spends beyond the transport.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _support import (
    ACCORD,
    BENCH,
    PYTHON,
    Sink,
    Store,
    add_members,
    draft,
    fresh_store,
    load,
    machine,
    median,
    run_measured,
)

MARKER = "member-to-replace@example.org"


def sample_message(path: Path) -> int:
    """One invitation as accord builds it (with the raw sender's To marker); its size."""
    from sqlalchemy import select

    from accord.services.composing import Composer
    from accord.services.rounds import start_round
    from storage import tables as t

    with fresh_store("sqlite") as store:
        add_members(store, 1)
        statement = draft(store)
        ctx = store.context()
        start_round(
            ctx,
            statement_id=statement,
            group="Bench",
            rule="majority",
            deadline=datetime.now(UTC) + timedelta(days=14),
        )
        with ctx.uow(readonly=True) as uow:
            rows = list(uow.session.execute(select(t.outbox)))
            data = Composer(ctx, uow).compose_all(rows)[0][0].data
        ctx.db.dispose()
    data = data.replace(b"member000000@example.org", MARKER.encode())
    path.write_bytes(data)
    return len(data)


def raw(port: int, count: int, message: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds sending (from the first connect to the last quit) and CPU seconds of the whole
    raw process (building its messages included)."""
    run = run_measured(
        [PYTHON, str(BENCH / "raw_smtp.py"), str(port), str(count), str(message)], env
    )
    return float(run.stdout.split()[1]), run.cpu


def sent_rows(store: Store) -> int:
    from sqlalchemy import func, select

    from storage import tables as t
    from storage.uow import Database

    db = Database(store.url)
    try:
        with db.uow(readonly=True) as uow:
            query = select(func.count()).select_from(t.outbox).where(t.outbox.c.status == "sent")
            return int(uow.session.scalar(query) or 0)
    finally:
        db.dispose()


def one_run(size: int, backend: str, sink: Sink, message: Path) -> dict[str, float]:
    with fresh_store(backend) as store:
        add_members(store, size)
        statement = draft(store)
        env = {**store.env, "ACCORD_SMTP_HOST": "127.0.0.1", "ACCORD_SMTP_PORT": str(sink.port)}
        deadline = (datetime.now(UTC) + timedelta(days=14)).isoformat(timespec="seconds")
        before, before_cpu = raw(sink.port, size, message, env)
        received = sink.count()
        run = run_measured(
            [
                ACCORD,
                "rounds",
                "start",
                str(statement),
                "--group",
                "Bench",
                "--rule",
                "majority",
                "--deadline",
                deadline,
                "--json",
            ],
            env,
        )
        delivered = sink.count() - received
        after, after_cpu = raw(sink.port, size, message, env)
        marked = sent_rows(store)
    if delivered != size or marked != size:
        raise RuntimeError(f"{size} recipients: sink got {delivered}, outbox marked {marked} sent")
    return {
        "accord": run.seconds,
        "peak_mb": run.peak_mb,
        "raw_before": before,
        "raw_after": after,
        "accord_cpu": run.cpu,
        "raw_cpu": (before_cpu + after_cpu) / 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(machine())
    work = Path(tempfile.mkdtemp(prefix="accord-bench-fanout-"))
    message = work / "message.eml"
    print(
        f"message size {sample_message(message)} bytes; database {args.db}; sink in its own "
        "process; raw: aiosmtplib, 8 connections, prebuilt messages"
    )
    print(
        f"{'recipients':>10} {'accord s':>9} {'rate/s':>7} {'raw s':>13} {'raw/s':>7} "
        f"{'ratio':>6} {'peak MB':>8} {'CPU ms/mail':>14}  load"
    )
    results: dict[int, dict[str, float]] = {}
    with Sink() as sink:
        for size in sizes:
            runs = [one_run(size, args.db, sink, message) for _ in range(args.repeat)]
            for r in runs:
                r["raw"] = (r["raw_before"] + r["raw_after"]) / 2
                r["ratio"] = r["raw"] / r["accord"]
            m = {key: median([r[key] for r in runs]) for key in runs[0]}
            results[size] = m
            ratios = ", ".join(f"{r['ratio']:.2f}" for r in runs)
            print(
                f"{size:>10} {m['accord']:>9.2f} {size / m['accord']:>7.0f} "
                f"{m['raw_before']:>6.2f}/{m['raw_after']:<6.2f} {size / m['raw']:>7.0f} "
                f"{m['ratio']:>6.2f} {m['peak_mb']:>8.0f} "
                f"{m['accord_cpu'] / size * 1000:>6.2f} / {m['raw_cpu'] / size * 1000:<5.2f}  "
                f"{load()}  (ratios {ratios})"
            )
    first = sizes[0]
    for size in sizes[1:]:
        growth = results[size]["accord"] / results[first]["accord"]
        cpu_growth = results[size]["accord_cpu"] / results[first]["accord_cpu"]
        print(
            f"time x{growth:.1f} (CPU time x{cpu_growth:.1f}) for x{size / first:.0f} recipients "
            f"({first} -> {size})"
        )
    if 10_000 in results:
        m = results[10_000]
        print(
            f"10,000 recipients: ratio {m['ratio']:.2f} (goal >= 0.5, aim 0.8): "
            f"{'met' if m['ratio'] >= 0.5 else 'MISSED'}; peak {m['peak_mb']:.0f} MB "
            f"(goal < 300): {'met' if m['peak_mb'] < 300 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
