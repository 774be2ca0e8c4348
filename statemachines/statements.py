"""Institutional statements: draft → circulated → endorsed|not_endorsed → published (or withdrawn).

Circulation is guarded by the Advisory Group's own conditions: a declared kind the group accepts, a
political statement only to a group that accepts political messages, a deadline in the future and
at least one recipient.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from statemachines.errors import GuardFailed, Message
from statemachines.machine import Lifecycle, require

if TYPE_CHECKING:
    from transitions import EventData  # imported when a machine is first built
from statemachines.rounds import ENDORSED, NOT_ENDORSED

DRAFT, CIRCULATED, PUBLISHED, WITHDRAWN = "draft", "circulated", "published", "withdrawn"
STATES = (DRAFT, CIRCULATED, ENDORSED, NOT_ENDORSED, PUBLISHED, WITHDRAWN)


def text_sha256(text: str) -> str:
    """The fingerprint of a text version: SHA-256 of its NFC, LF-normalised UTF-8 bytes."""
    normalised = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class GroupPolicy:
    """What a group accepts to be asked to sign."""

    name: str
    accepts_political: bool = False
    refused_kinds: frozenset[str] = field(default_factory=frozenset)


def circulation_problem(
    *,
    kind: str | None,
    political: bool,
    group: GroupPolicy,
    deadline: datetime,
    now: datetime,
    recipients: int,
    known_kinds: Collection[str],
) -> str | None:
    """The first reason this statement cannot go to this group, or None."""
    if not kind:
        return Message("the statement declares no kind")
    if kind not in known_kinds:
        return Message(
            "unknown kind '{kind}' (known: {known})",
            kind=kind,
            known=", ".join(sorted(known_kinds)),
        )
    if kind in group.refused_kinds:
        return Message(
            "group '{group}' refuses statements of kind '{kind}'", group=group.name, kind=kind
        )
    if political and not group.accepts_political:
        return Message("group '{group}' does not accept political statements", group=group.name)
    if deadline <= now:
        return Message("the deadline {at} is not in the future", at=deadline.isoformat())
    if recipients < 1:
        return Message("group '{group}' has no deliverable recipient", group=group.name)
    return None


def _circulation_allowed(event: EventData) -> bool:
    statement = event.model
    problem = circulation_problem(
        kind=statement.kind, political=bool(statement.political), **event.kwargs
    )
    if problem:
        raise GuardFailed("cannot circulate: {problem}", problem=problem)
    return True


def _outcome_is(value: str) -> Callable[[EventData], bool]:
    return lambda event: event.kwargs.get("outcome") == value


def _has_reason(event: EventData) -> bool:
    return bool(str(event.kwargs.get("reason") or "").strip())


def _record_withdrawal(event: EventData) -> None:
    event.model.withdraw_reason = str(event.kwargs["reason"]).strip()


STATEMENT_LIFECYCLE = Lifecycle(
    "statement",
    STATES,
    [
        {
            "trigger": "circulate",
            "source": DRAFT,
            "dest": CIRCULATED,
            "conditions": [_circulation_allowed],
        },
        {"trigger": "revise", "source": [DRAFT, NOT_ENDORSED], "dest": DRAFT},
        {"trigger": "revise", "source": CIRCULATED, "dest": CIRCULATED},
        {
            "trigger": "close",
            "source": CIRCULATED,
            "dest": ENDORSED,
            "conditions": [_outcome_is(ENDORSED)],
        },
        {
            "trigger": "close",
            "source": CIRCULATED,
            "dest": NOT_ENDORSED,
            "conditions": [_outcome_is(NOT_ENDORSED)],
        },
        {"trigger": "publish", "source": ENDORSED, "dest": PUBLISHED},
        {
            "trigger": "withdraw",
            "source": [DRAFT, CIRCULATED, ENDORSED, NOT_ENDORSED, PUBLISHED],
            "dest": WITHDRAWN,
            "conditions": [require(_has_reason, "withdraw needs a reason")],
            "after": [_record_withdrawal],
        },
    ],
)


class StatementVersion:
    """One text of a statement, fingerprinted; decisions are bound to its SHA-256."""

    def __init__(self, *, number: int, body: str, created_at: datetime | None = None) -> None:
        self.number = number
        self.body = body
        self.sha256 = text_sha256(body)
        self.created_at = created_at


class Statement:
    def __init__(
        self, *, title: str, kind: str, political: bool = False, slug: str = "", **fields: Any
    ) -> None:
        self.title = title
        self.kind = kind
        self.political = political
        self.slug = slug
        self.state = DRAFT
        self.withdraw_reason: str | None = None
        self.endorsed_version: int | None = None
        self.versions: list[StatementVersion] = []
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def current(self) -> StatementVersion:
        return max(self.versions, key=lambda v: v.number)

    def add_version(self, body: str, at: datetime | None = None) -> StatementVersion:
        number = max((v.number for v in self.versions), default=0) + 1
        version = StatementVersion(number=number, body=body, created_at=at)
        self.versions.append(version)
        return version

    def fire(self, trigger: str, **kwargs: Any) -> str:
        return STATEMENT_LIFECYCLE.fire(self, trigger, **kwargs)


def state_after_round(state: str, mode: str, outcome: str) -> str:
    """The state of a statement in `state` once its round in `mode` closes with `outcome`: an
    endorsement round closes a circulated statement (the lifecycle's `close`); nothing else
    moves it."""
    if mode != "endorse" or state != CIRCULATED:
        return state
    statement = Statement(title="", kind="", state=state)
    return statement.fire("close", outcome=outcome)
