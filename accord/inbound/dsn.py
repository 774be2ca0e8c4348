"""Delivery status notifications (RFC 3464): which message bounced, for whom, and how hard."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from accord.inbound.headers import addresses, first, first_message_id

_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_BLOCKS = re.compile(r"\r?\n[ \t]*\r?\n")


@dataclass(frozen=True)
class RecipientStatus:
    """One per-recipient block of a report."""

    recipient: str
    action: str
    status: str
    diagnostic: str

    @property
    def hard(self) -> bool:
        """A permanent failure (5.x.x): the address will not take mail."""
        return self.action == "failed" and self.status.startswith("5")


@dataclass(frozen=True)
class DeliveryReport:
    recipients: tuple[RecipientStatus, ...]
    original_message_id: str | None


def is_delivery_report(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and str(msg.get_param("report-type", "")).lower() == "delivery-status"
    )


def read_report(msg: Message) -> DeliveryReport:
    """The per-recipient statuses and the bounced message's Message-ID (None if not returned)."""
    recipients: list[RecipientStatus] = []
    original: str | None = None
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            recipients.extend(_statuses(part))
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _original_id(part)
    return DeliveryReport(tuple(recipients), original)


def _statuses(part: Message) -> list[RecipientStatus]:
    found = []
    for block in _blocks(part):
        field = first(block, "Final-Recipient") or first(block, "Original-Recipient")
        recipient = _recipient(field)
        status = _STATUS.search(first(block, "Status"))
        if recipient and status:
            found.append(
                RecipientStatus(
                    recipient=recipient,
                    action=first(block, "Action").strip().lower(),
                    status=status.group(0),
                    diagnostic=first(block, "Diagnostic-Code")[:500],
                )
            )
    return found


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status part, parsed or not by the `email` package."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    return [HeaderParser().parsestr(chunk) for chunk in _BLOCKS.split(text) if chunk.strip()]


def _recipient(value: str) -> str | None:
    """`rfc822; user@example.org` -> `user@example.org`."""
    found = addresses(value.partition(";")[2] or value)
    return found[0] if found else None


def _original_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list):
        inner = next((p for p in payload if isinstance(p, Message)), None)
        return first_message_id(first(inner, "Message-ID")) if inner is not None else None
    if not isinstance(payload, str):
        return None
    text = part.get_payload(decode=True)
    headers = HeaderParser().parsestr(
        text.decode("utf-8", "replace") if isinstance(text, bytes) else payload
    )
    return first_message_id(first(headers, "Message-ID"))
