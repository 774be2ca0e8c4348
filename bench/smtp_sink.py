"""An SMTP sink for the benchmarks: aiosmtpd in its own process, counting and discarding mail.

Run by the benchmarks (not by hand): `python bench/smtp_sink.py [--port P]`. It prints
`port N` once it listens on 127.0.0.1, then answers each line on stdin: `count` prints the number
of messages and bytes accepted so far; end of input stops it. In its own process it does not share
the GIL with the sender being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from aiosmtpd.smtp import SMTP


class Counter:
    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        self.bytes += len(envelope.original_content or b"")
        return "250 OK"


async def serve(port: int) -> None:
    counter = Counter()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(counter, hostname="sink.local"), "127.0.0.1", port
    )
    actual = server.sockets[0].getsockname()[1]
    print(f"port {actual}", flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        if line.strip() == b"count":
            print(f"count {counter.messages} {counter.bytes}", flush=True)
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
