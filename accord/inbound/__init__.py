"""Inbound mail: read one reply (`parse`, with `headers` and `dsn`) and the IMAP folder (`imap`).

Pure reading and a client, nothing else: no database, no Prefect. `accord.services.replies`
decides what a message means for a round and records it. This package imports nothing itself.
"""
