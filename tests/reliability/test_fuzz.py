"""Fuzzing with hypothesis: every reader of outside input gives a result or a clear error
(AccordError, one line), and never crashes.

Already fuzzed elsewhere, not repeated: parse_text and parse_markdown over arbitrary and
sample-made text (tests/unit/test_report_parse.py), read_timeframe over arbitrary text and
timeframe words with any reference dates (tests/unit/test_timeframes.py), mail headers from any
name or subject (tests/unit/test_mail_render.py). Here: the reply parser (bytes, real replies
mutated, mail built from hostile parts), the whole reply path into the database on SQLite and
PostgreSQL, and Word reports mutated inside their zip.
"""

from __future__ import annotations

import io
import random
import tempfile
import zipfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.inbound.parse import WORDS, Inbound, read_message
from accord.reports.parse import ParsedReport, parse_report
from accord.services.context import Context
from accord.services.replies import process_reply
from statemachines.errors import AccordError
from tests.conftest import SAMPLE_REPORT
from tests.unit.test_report_parse import to_docx

PATTERN = "endorse+{key}@example.org"
KEY = "0123456789abcdef0123456789abcdef"
REPLIES = sorted((Path(__file__).parents[1] / "fixtures" / "replies").glob("*.eml"))
FIELDS = {
    "member": "barry.cusack@example.org",
    "key": KEY,
    "message_id": "<reply-1@example.org>",
    "in_reply_to": "<invitation-1@example.org>",
    "answer": "Yes, we endorse it.",
}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def filled(path: Path) -> bytes:
    text = path.read_text(encoding="utf-8")
    for name, value in FIELDS.items():
        text = text.replace("{" + name + "}", value)
    return text.replace("\n", "\r\n").encode("utf-8")


def mutate(data: bytes, rng: random.Random, edits: int) -> bytes:
    """Delete, duplicate, replace or insert random slices and bytes."""
    buffer = bytearray(data)
    for _ in range(edits):
        at = rng.randrange(len(buffer) + 1)
        size = rng.randrange(1, 40)
        choice = rng.randrange(4)
        if choice == 0:
            del buffer[at : at + size]
        elif choice == 1:
            buffer[at:at] = buffer[at : at + size] * rng.randrange(1, 50)
        elif choice == 2:
            buffer[at : at + 1] = bytes([rng.randrange(256)])
        else:
            buffer[at:at] = rng.choice(
                [b"\r\n", b"\r\n\r\n", b"\x00", b"=?utf-8?b?", b"--", b">", b"<", b"\xff\xfe",
                 b"Content-Type: multipart/mixed; boundary=x\r\n", b"charset=unknown-8bit",
                 b"Auto-Submitted: auto-replied\r\n", b"<" * 500, b"\t" * 200]
            )  # fmt: skip
    return bytes(buffer)


def assert_read(raw: bytes) -> Inbound:
    got = read_message(raw, reply_pattern=PATTERN)
    assert isinstance(got, Inbound)
    assert got.decision is None or got.decision in set(WORDS.values())
    assert got.message_key and len(got.message_key) <= 300  # inbound_messages.message_key
    assert got.message_id is None or len(got.message_id) <= 300
    return got


@FUZZ
@given(st.binary(max_size=5_000))
def test_the_reply_parser_reads_any_bytes(raw: bytes) -> None:
    assert_read(raw)


@FUZZ
@given(st.sampled_from(REPLIES), st.randoms(use_true_random=False), st.integers(1, 12))
def test_the_reply_parser_reads_real_replies_mutated(
    path: Path, rng: random.Random, edits: int
) -> None:
    assert_read(mutate(filled(path), rng, edits))


header_values = st.one_of(
    st.text(max_size=300),
    st.sampled_from([
        "=?utf-8?q?=FF=FE?=", "=?x-unknown?b?AAAA?=", "<" + "a" * 1000 + "@x>", "<>",
        "multipart/alternative; boundary=", "text/html; charset=utf-7", "auto-replied",
        f"endorse+{KEY}@example.org", f'"x" <endorse+{KEY}@example.org>, y@z', "bulk",
    ]),
)  # fmt: skip
header_names = st.sampled_from([
    "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Content-Type",
    "Content-Transfer-Encoding", "Auto-Submitted", "Precedence", "Delivered-To", "Return-Path",
    "X-Autoreply", "MIME-Version",
])  # fmt: skip
bodies = st.one_of(
    st.text(max_size=2_000),
    st.lists(st.sampled_from(["endorse", "Non.", "> yes", "Le lun. a écrit :", "<p>oui</p>",
                              "<blockquote>", "-- ", "---- Forwarded message ----", "\u200b"]),
             max_size=30).map("\n".join),
)  # fmt: skip


@FUZZ
@given(st.lists(st.tuples(header_names, header_values), max_size=15), bodies)
def test_the_reply_parser_reads_mail_built_from_hostile_parts(
    headers: list[tuple[str, str]], body: str
) -> None:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    for encoding in ("utf-8", "latin-1"):
        assert_read((head + "\r\n" + body).encode(encoding, "replace"))


@pytest.fixture
def reply_round(ctx: Context) -> tuple[Context, str, str]:
    """A round of the Advisory Group, with Barry's reply key and invitation Message-ID."""
    from sqlalchemy import select

    from storage import tables as t
    from tests.integration.test_web import open_round

    rnd = open_round(ctx)
    with ctx.uow(readonly=True) as uow:
        key = uow.session.scalar(
            select(t.recipients.c.reply_key).where(
                t.recipients.c.member_id == rnd.members["barry.cusack@example.org"]
            )
        )
        invitation = uow.session.scalar(
            select(t.outbox.c.message_id).where(t.outbox.c.to_addr == "barry.cusack@example.org")
        )
    return ctx, key, invitation


LONG = "a" * 400 + "@example.org"


@pytest.mark.parametrize(
    "sender", [LONG, "mallory@example.org", "barry.cusack@example.org"],
    ids=["400-char-stranger", "stranger", "member"],
)  # fmt: skip
def test_hostile_replies_end_in_a_clean_outcome_in_the_database(
    reply_round: tuple[Context, str, str], sender: str
) -> None:
    """Mutated real replies carrying a genuine key, from the member, a stranger or an address
    too long for the database: each becomes an outcome, never an exception."""
    ctx, key, invitation = reply_round
    rng = random.Random(7)
    fields = {**FIELDS, "member": sender, "key": key, "in_reply_to": invitation}
    seen = set()
    for n, path in enumerate(REPLIES * 3):
        text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
        for name, value in {**fields, "message_id": f"<fuzz-{n}@example.org>"}.items():
            text = text.replace("{" + name + "}", value)
        raw = text.encode("utf-8") if n < len(REPLIES) else mutate(text.encode(), rng, 5)
        outcome = process_reply(ctx, raw)
        seen.add(outcome.outcome)
        assert outcome.outcome != "error", outcome
    with ctx.uow(readonly=True) as uow:
        assert uow.audit.verify().ok
    assert seen


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 6))
def test_a_word_report_mutated_inside_its_zip_reads_or_is_refused(
    rng: random.Random, edits: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        original = sample_docx()
        target = Path(folder) / "report.docx"
        target.write_bytes(_mutated_docx(original, rng, edits))
        try:
            assert isinstance(parse_report(target), ParsedReport)
        except AccordError as error:
            assert "\n" not in str(error)


def _mutated_docx(data: bytes, rng: random.Random, edits: int) -> bytes:
    """The same package with word/document.xml (or, sometimes, the zip itself) mutated."""
    if rng.random() < 0.2:
        return mutate(data, rng, edits)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if item.filename == "word/document.xml":
                content = mutate(content, rng, edits)
            target.writestr(item, content)
    return out.getvalue()


@cache
def sample_docx() -> bytes:
    """The sample report as Word (made once: python-docx is slow)."""
    with tempfile.TemporaryDirectory() as folder:
        path = to_docx(SAMPLE_REPORT.read_text(encoding="utf-8"), Path(folder) / "sample.docx")
        return path.read_bytes()
