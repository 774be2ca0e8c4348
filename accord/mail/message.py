"""Build the bytes of one mail: multipart/alternative, plain text then HTML, UTF-8.

Why not `EmailMessage.as_bytes()`: building and serialising an `EmailMessage` costs 2–4 ms on
this machine, almost all of it in the generic generator, so a round of 10,000 would spend longer
building than sending. Every message of a round has the same shape, so that shape is
fixed here and only each member's values are written in: quoted-printable parts (`binascii`, in
C), ASCII headers folded at spaces, other values as RFC 2047 encoded-words. `email.policy.default`
parses the result back into the same message; the tests check that for every purpose and for
hostile names and subjects.

Every header value goes through `one_line`: a name or subject can never start a new header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

from accord.mail.render import Rendered, one_line

MAX_LINE = 78
MAX_WORD = 900  # SMTP allows 998 characters a line
EW_BYTES = 45  # 60 characters of base64: an encoded-word of 72
BOUNDARY = "=_accord_alternative"  # "=_" never occurs in quoted-printable text
_PLAIN_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"\\]+@[^\s@<>()\[\],;:\"\\]+")
_HEADER_NAME = re.compile(r"[!-9;-~]+")
_OWN_HEADERS = frozenset(
    {
        "date",
        "from",
        "to",
        "reply-to",
        "subject",
        "message-id",
        "in-reply-to",
        "references",
        "auto-submitted",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
_TAIL = (
    f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{BOUNDARY}"\r\n\r\n'
).encode("ascii")
_PART_HEAD = (
    '--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
)
_TEXT_HEAD = _PART_HEAD.format(boundary=BOUNDARY, subtype="plain").encode("ascii")
_HTML_HEAD = ("\r\n" + _PART_HEAD.format(boundary=BOUNDARY, subtype="html")).encode("ascii")
_END = f"\r\n--{BOUNDARY}--\r\n".encode("ascii")


def build_message(
    rendered: Rendered,
    *,
    sender: str,
    to: str,
    to_name: str | None,
    reply_to: str | None,
    message_id: str,
    date: datetime,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto_submitted: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> bytes:
    """The message as bytes with CRLF line ends, ready for SMTP DATA."""
    if date.tzinfo is None:
        raise ValueError("the Date of a message needs a time zone")
    lines = [
        _header("Date", format_datetime(date)),
        _from(sender),
        _mailbox("To", to_name, to),
        _mailbox("Reply-To", None, reply_to) if reply_to else b"",
        _header("Subject", rendered.subject),
        _header("Message-ID", message_id),
        _header("In-Reply-To", in_reply_to) if in_reply_to else b"",
        _header("References", " ".join(references)) if references else b"",
        _header("Auto-Submitted", auto_submitted) if auto_submitted else b"",
        *(_extra(name, value) for name, value in (extra_headers or {}).items()),
    ]
    return b"".join(
        (*lines, _TAIL, _TEXT_HEAD, _qp(rendered.text), _HTML_HEAD, _qp(rendered.html), _END)
    )


def make_message_id(key: str, domain: str) -> str:
    """A stable Message-ID: the same key (an outbox row's) always gives the same id."""
    domain = one_line(domain).strip("<>[]")
    if not domain or not _PLAIN_ADDRESS.fullmatch(f"x@{domain}"):
        raise ValueError(f"not a domain for a Message-ID: {domain!r}")
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def _header(name: str, value: str) -> bytes:
    """`Name: value` + CRLF, folded at spaces; a value that is not plain ASCII is encoded."""
    value = one_line(value)
    words = value.split(" ")
    if value.isascii() and "=?" not in value and max(map(len, words)) <= MAX_WORD:
        return _fold(f"{name}:", words)
    return _encoded(name, value)


def _fold(start: str, words: Sequence[str]) -> bytes:
    lines, line = [], start
    for word in words:
        if line != start and len(line) + 1 + len(word) > MAX_LINE:
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


@lru_cache(maxsize=1024)
def _encoded(name: str, value: str) -> bytes:
    """RFC 2047 encoded-words of at most 45 bytes each, one per line.

    Readers ignore the folding between adjacent encoded-words, so the value reads back exactly
    (`policy.default`'s own folder can lose a space between them). Cached: a round's subject
    is encoded once.
    """
    chunks, chunk, size = [], "", 0
    for char in value:
        width = len(char.encode("utf-8"))
        if size + width > EW_BYTES:
            chunks.append(chunk)
            chunk, size = "", 0
        chunk, size = chunk + char, size + width
    chunks.append(chunk)
    return (f"{name}: " + "\r\n ".join(map(_encoded_word, chunks)) + "\r\n").encode("ascii")


def _encoded_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8')).decode('ascii')}?="


@lru_cache(maxsize=16)
def _from(sender: str) -> bytes:
    """`addr` or `Name <addr>`, checked and written like any mailbox (once per sender)."""
    return _mailbox("From", *parseaddr(one_line(sender)))


def _mailbox(name: str, display_name: str | None, address: str | None) -> bytes:
    """An address header for one mailbox; whatever the display name holds, it stays a name.

    A display name that is not plain ASCII is one encoded-word, however long: readers (Python's
    among them) keep the folding between encoded-words inside a name as a space.
    """
    address = one_line(address or "")
    if not address.isascii() or not _PLAIN_ADDRESS.fullmatch(address):
        raise ValueError(f"not a plain ASCII mail address: {address!r}")
    display_name = one_line(display_name or "")
    if not display_name:
        return _header(name, address)
    if display_name.isascii() and "=?" not in display_name:
        value = formataddr((display_name, address))  # quotes and escapes specials
    else:
        value = f"{_encoded_word(display_name)} <{address}>"
    line = f"{name}: {value}\r\n"
    return line.encode("ascii") if len(line) <= MAX_WORD else _header(name, address)


def _extra(name: str, value: str) -> bytes:
    if not _HEADER_NAME.fullmatch(name) or name.lower() in _OWN_HEADERS:
        raise ValueError(f"not an extra header accord can add: {name!r}")
    return _header(name, value)


def _qp(text: str) -> bytes:
    """Quoted-printable UTF-8 with CRLF line ends (lines stay under 77 characters)."""
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, istext=True).replace(b"\n", b"\r\n")
