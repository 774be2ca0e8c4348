"""The transport's limit: raw aiosmtplib sending prebuilt messages over reused connections.

Run by bench/fanout.py (not by hand): `python bench/raw_smtp.py PORT COUNT MESSAGE_FILE
[--connections 8]`. The COUNT messages are built before the clock starts (the file's bytes with
each recipient's own To line); it prints `seconds S` for connecting, sending them all and quitting.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from aiosmtplib import SMTP

SENDER = "secretariat@bench.example.org"


async def send(port: int, messages: list[tuple[str, bytes]], connections: int) -> float:
    queue = iter(range(len(messages)))
    start = time.perf_counter()

    async def worker() -> None:
        client = SMTP(hostname="127.0.0.1", port=port, timeout=60)
        await client.connect()
        for index in queue:
            recipient, data = messages[index]
            await client.sendmail(SENDER, [recipient], data)
        await client.quit()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("port", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("message", type=Path)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    template = args.message.read_bytes()
    marker = b"member-to-replace@example.org"
    messages = []
    for n in range(args.count):
        recipient = f"member{n:06d}@example.org"
        messages.append((recipient, template.replace(marker, recipient.encode())))
    seconds = asyncio.run(send(args.port, messages, args.connections))
    print(f"seconds {seconds:.4f}")


if __name__ == "__main__":
    main()
