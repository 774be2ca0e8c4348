"""Answers by link: 2,000 answers (GET the page, then POST the button) from 32 concurrent clients
against the reply app served by `accord web` (uvicorn, its own process), and the same traffic
against a trivial FastAPI app served the same way (bench/trivial_app.py), in the same run.

Run: .venv/bin/python bench/answers.py [--db sqlite,postgresql] [--sizes 1000,10000]
     [--answers 2000] [--clients 32] [--repeat 3]
Goal (issue 8): the reply app answers at least 0.3 of the trivial app's rate, on SQLite and on
PostgreSQL, and every answer is recorded (each POST 200, one decision row each). Growth: the
round's size (recipients) from 1,000 to 10,000 should not slow an answer down.

The answers come from the first min(answers, recipients - 1) members, in turn (so a member may
answer twice, changing their answer), three in four endorse, one abstains: under the majority
rule the round never closes during the run. Each answer's comment is its number, so that no
answer repeats the one before it (a repeated answer is recorded once). The client is a
minimal keep-alive HTTP/1.1 client on asyncio streams, so it costs little next to the servers.
"CPU ms/answer" is the server process's CPU time per answer (accord / trivial): on a machine
shared with other work it says more than the wall time does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _support import (
    ACCORD,
    BENCH,
    PYTHON,
    ROOT,
    Sink,
    Store,
    add_members,
    draft,
    fresh_store,
    load,
    machine,
    median,
)

DECISIONS = (
    "abstain",
    "endorse",
    "endorse",
    "endorse",
)  # by answer number: majority stays possible


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server process on 127.0.0.1:port, ready once /healthz answers 200."""

    def __init__(self, args: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while not self._healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server {args} did not start")
            time.sleep(0.05)

    def _healthy(self) -> bool:
        try:
            status, _ = asyncio.run(_one(self.port, "GET", "/healthz"))
        except OSError:
            return False
        return status == 200

    def cpu(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def _request(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    method: str,
    path: str,
    body: bytes = b"",
) -> tuple[int, bytes]:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    if method == "POST":
        head += (
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        )
    writer.write(head.encode() + b"\r\n" + body)
    headers = await reader.readuntil(b"\r\n\r\n")
    lines = headers.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if fields.get("transfer-encoding") == "chunked":
        payload = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            payload += await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
        return status, payload
    return status, await reader.readexactly(int(fields.get("content-length", 0)))


async def _one(port: int, method: str, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await _request(reader, writer, method, path)
    finally:
        writer.close()


async def _answer_all(port: int, tokens: list[str], clients: int) -> tuple[float, list[int]]:
    """GET then POST each token, `clients` keep-alive connections at a time; (seconds, statuses
    of the POSTs that were not 200, GETs included)."""
    work = iter(enumerate(tokens))
    bad: list[int] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n, token in work:
                status, _ = await _request(reader, writer, "GET", f"/r/{token}")
                if status != 200:
                    bad.append(status)
                    continue
                form = f"decision={DECISIONS[n % 4]}&comment=%23{n}".encode()
                status, _ = await _request(reader, writer, "POST", f"/r/{token}", form)
                if status != 200:
                    bad.append(status)
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - start, bad


def prepare(store: Store, size: int, answers: int) -> tuple[int, list[str]]:
    """A round open to `size` members; the tokens of the answers to send, in order."""
    from sqlalchemy import select

    from accord.services.links import make_token
    from accord.services.rounds import start_round
    from storage import tables as t

    add_members(store, size)
    statement = draft(store)
    ctx = store.context()
    deadline = datetime.now(UTC) + timedelta(days=14)
    rnd = start_round(
        ctx, statement_id=statement, group="Bench", rule="majority", deadline=deadline
    )
    with ctx.uow(readonly=True) as uow:
        members = list(
            uow.session.scalars(
                select(t.recipients.c.member_id)
                .where(t.recipients.c.round_id == rnd.id)
                .order_by(t.recipients.c.member_id)
                .limit(min(answers, size - 1))
            )
        )
    secret = ctx.settings.resolve_secret_key()
    grace = timedelta(hours=ctx.settings.link_grace_hours)
    ctx.db.dispose()
    tokens = [
        make_token(
            secret,
            round_id=rnd.id,
            member_id=members[n % len(members)],
            text_sha256=rnd.text_sha256,
            deadline=deadline,
            grace=grace,
        )
        for n in range(answers)
    ]
    return rnd.id, tokens


def decisions(store: Store, round_id: int) -> int:
    from sqlalchemy import func, select

    from storage import tables as t
    from storage.uow import Database

    db = Database(store.url)
    try:
        with db.uow(readonly=True) as uow:
            query = (
                select(func.count())
                .select_from(t.decisions)
                .where(t.decisions.c.round_id == round_id)
            )
            return int(uow.session.scalar(query) or 0)
    finally:
        db.dispose()


def serve_answers(
    server: Server, tokens: list[str], clients: int
) -> tuple[float, float, list[int]]:
    """(wall seconds, server CPU seconds, refused statuses) of answering every token."""
    try:
        cpu = server.cpu()
        seconds, bad = asyncio.run(_answer_all(server.port, tokens, clients))
        cpu = server.cpu() - cpu
    finally:
        server.stop()
    return seconds, cpu, bad


def trivial(tokens: list[str], clients: int) -> tuple[float, float]:
    port = free_port()
    server = Server(
        [PYTHON, str(BENCH / "trivial_app.py"), "--port", str(port)], {**os.environ}, port
    )
    seconds, cpu, bad = serve_answers(server, tokens, clients)
    assert not bad, f"the trivial app answered {bad[:5]}"
    return seconds, cpu


def one_run(backend: str, size: int, answers: int, clients: int) -> dict[str, float]:
    with fresh_store(backend) as store:
        round_id, tokens = prepare(store, size, answers)
        before, before_cpu = trivial(tokens, clients)
        port = free_port()
        with Sink() as sink:  # the receipts leave for a mail server of their own, as in production
            env = {**store.env, "ACCORD_SMTP_HOST": "127.0.0.1", "ACCORD_SMTP_PORT": str(sink.port)}
            server = Server([ACCORD, "web", "--port", str(port)], env, port)
            seconds, cpu, bad = serve_answers(server, tokens, clients)
        after, after_cpu = trivial(tokens, clients)
        recorded = decisions(store, round_id)
    if bad or recorded != answers:
        raise RuntimeError(
            f"{backend} {size}: {len(bad)} refused ({sorted(set(bad))}), "
            f"{recorded} of {answers} answers recorded"
        )
    return {
        "accord": seconds,
        "trivial_before": before,
        "trivial_after": after,
        "recorded": recorded,
        "accord_cpu_ms": cpu / answers * 1000,
        "trivial_cpu_ms": (before_cpu + after_cpu) / 2 / answers * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    print(
        f"{args.answers} answers (GET + POST each), {args.clients} concurrent keep-alive clients; "
        "servers: uvicorn, one process each"
    )
    print(
        f"{'database':<11} {'recipients':>10} {'accord s':>9} {'answers/s':>9} "
        f"{'trivial s':>13} {'trivial/s':>9} {'ratio':>6}  {'CPU ms/answer':>14}  "
        "recorded  load"
    )
    verdicts = []
    for backend in args.db.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            runs = [one_run(backend, size, args.answers, args.clients) for _ in range(args.repeat)]
            for r in runs:
                r["trivial"] = (r["trivial_before"] + r["trivial_after"]) / 2
                r["ratio"] = r["trivial"] / r["accord"]
            m = {key: median([r[key] for r in runs]) for key in runs[0]}
            ratios = ", ".join(f"{r['ratio']:.2f}" for r in runs)
            print(
                f"{backend:<11} {size:>10} {m['accord']:>9.2f} {args.answers / m['accord']:>9.0f} "
                f"{m['trivial_before']:>6.2f}/{m['trivial_after']:<6.2f} "
                f"{args.answers / m['trivial']:>9.0f} {m['ratio']:>6.2f}  "
                f"{m['accord_cpu_ms']:>6.2f} / {m['trivial_cpu_ms']:<5.2f}  "
                f"{int(m['recorded']):>8}  {load()}  (ratios {ratios})"
            )
            verdicts.append(
                f"{backend} {size}: ratio {m['ratio']:.2f} (goal >= 0.3): "
                f"{'met' if m['ratio'] >= 0.3 else 'MISSED'}; every answer recorded"
            )
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
