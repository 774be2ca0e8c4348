"""Reading header fields of mail from anyone, without ever raising.

Values are taken raw (unfolded) so that a malformed field cannot make the `email` package's
header parser throw; what is kept (addresses, Message-IDs) is validated before anyone stores it.
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses

_FOLD = re.compile(r"\r?\n[ \t]*")
_MESSAGE_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]{1,250}>")
_ADDR_SPEC = re.compile(r"[^@\s<>()\[\]\\,;:\"]+@[^@\s<>()\[\]\\,;:\"]+")


def values(msg: Message, name: str) -> list[str]:
    """Every raw value of the field `name`, unfolded; raw 8-bit bytes are read as UTF-8."""
    wanted = name.lower()
    return [_text(v) for k, v in msg.raw_items() if k.lower() == wanted]


def _text(value: object) -> str:
    """The `email` parser keeps undecodable header bytes as surrogates: read them as UTF-8."""
    raw = str(value).encode("utf-8", "surrogateescape")
    return _FOLD.sub(" ", raw.decode("utf-8", "replace")).strip()


def first(msg: Message, name: str) -> str:
    found = values(msg, name)
    return found[0] if found else ""


def decoded(value: str) -> str:
    """An RFC 2047 encoded value (a subject, say) as text; the raw value if it will not decode."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # hostile or broken encoded words: keep what was written
        return value


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a field (`<...>`), in order; anything unusable is left out."""
    return _MESSAGE_ID.findall(value)


def first_message_id(value: str) -> str | None:
    found = message_ids(value)
    return found[0] if found else None


def addresses(value: str) -> list[str]:
    """The addr-specs of an address field, lowercased; malformed ones are left out."""
    found = []
    for _name, address in getaddresses([value]):
        clean = address.strip().lower()
        if _ADDR_SPEC.fullmatch(clean) and clean.isprintable():
            found.append(clean)
    return found


def single_address(value: str) -> str | None:
    """The one address of a From field; None when there is none, several or only a broken one."""
    found = addresses(value)
    pieces = [p for _n, p in getaddresses([value]) if p.strip()]
    return found[0] if len(found) == 1 and len(pieces) == 1 else None
