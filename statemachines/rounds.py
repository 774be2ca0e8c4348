"""Round rules, tallies, when a round closes and its outcome: pure functions, clock passed in.

Silence never counts as consent: a recipient who has not answered (or whose answer was to an
earlier text) is `pending`, and `pending` never helps an outcome become `endorsed`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from statemachines.answers import ABSTAIN, CONCERNS, DECLINE, ENDORSE, SUPPORT
from statemachines.answers import DECISIONS as DECISIONS
from statemachines.errors import InvalidInput
from statemachines.machine import Lifecycle, require

if TYPE_CHECKING:
    from transitions import EventData  # imported when a machine is first built

OPEN, CLOSED = "open", "closed"
ENDORSED, NOT_ENDORSED, CONSULTED = "endorsed", "not_endorsed", "consulted"
MODES = ("endorse", "consult")
CLOSE_REASONS = ("all_answered", "deadline", "impossible", "closed_by_secretariat", "withdrawn")


@dataclass(frozen=True)
class Rule:
    """`unanimous`, `majority` or `min:N`."""

    name: str
    minimum: int = 0

    def __post_init__(self) -> None:
        # A rule built by hand must be one parse_rule accepts: `min` with N < 1 (or an unknown name
        # falling through to it) would be met with no endorsement at all, i.e. silence as consent.
        if self.name not in ("unanimous", "majority", "min") or (
            self.name == "min" and self.minimum < 1
        ):
            raise InvalidInput(
                "unknown rule '{rule}': use unanimous, majority or min:N (N >= 1)", rule=str(self)
            )

    def __str__(self) -> str:
        return f"min:{self.minimum}" if self.name == "min" else self.name


TALLY_KEYS = ("endorse", "decline", "abstain", "pending")


@dataclass(frozen=True)
class Tally:
    endorse: int = 0
    decline: int = 0
    abstain: int = 0
    pending: int = 0

    @property
    def recipients(self) -> int:
        return self.endorse + self.decline + self.abstain + self.pending

    def as_dict(self) -> dict[str, int]:
        return {
            "endorse": self.endorse,
            "decline": self.decline,
            "abstain": self.abstain,
            "pending": self.pending,
        }

    @classmethod
    def kept_by(cls, holder: Any) -> Tally:
        """The tally a round keeps in its `tally_*` attributes (a Round, or a row of its table)."""
        return cls(*(getattr(holder, f"tally_{key}") for key in TALLY_KEYS))

    def after_answer(self, previous: str | None, decision: str) -> Tally:
        """The tally once one recipient's answer `previous` (None: pending) becomes `decision`."""
        counts = self.as_dict()
        for key, one in tally([previous]).as_dict().items():
            counts[key] -= one
        for key, one in tally([decision]).as_dict().items():
            counts[key] += one
        return Tally(**counts)


def parse_rule(text: str) -> Rule:
    value = text.strip().lower()
    if value in ("unanimous", "majority"):
        return Rule(value)
    match = re.fullmatch(r"min:(\d{1,6})", value)
    if match and int(match.group(1)) >= 1:
        return Rule("min", int(match.group(1)))
    raise InvalidInput(
        "unknown rule '{rule}': use unanimous, majority or min:N (N >= 1)", rule=text
    )


def rule_text(rule: str) -> str:
    """How a round's rule reads in words, in the mail and on the answer page."""
    parsed = parse_rule(rule)
    if parsed.name == "unanimous":
        return "every member endorses or abstains, and no one declines"
    if parsed.name == "majority":
        return "more than half of the members endorse"
    return f"at least {parsed.minimum} members endorse"


def tally(decisions: Iterable[str | None]) -> Tally:
    """Count current decisions; None (no answer, or a stale one) is pending."""
    counts = {ENDORSE: 0, DECLINE: 0, ABSTAIN: 0, None: 0}
    for decision in decisions:
        key = {SUPPORT: ENDORSE, CONCERNS: DECLINE}.get(decision or "", decision)
        counts[key if key in counts else None] += 1
    return Tally(counts[ENDORSE], counts[DECLINE], counts[ABSTAIN], counts[None])


def is_met(rule: Rule, counts: Tally) -> bool:
    """Whether the rule holds on these counts, pending counting as not endorsing."""
    if rule.name == "unanimous":
        return counts.decline == 0 and counts.pending == 0 and counts.endorse >= 1
    if rule.name == "majority":
        return counts.endorse * 2 > counts.recipients
    return counts.endorse >= rule.minimum


def can_still_be_met(rule: Rule, counts: Tally) -> bool:
    """Whether the rule would hold if every pending recipient endorsed."""
    best = Tally(counts.endorse + counts.pending, counts.decline, counts.abstain, 0)
    return is_met(rule, best)


def outcome(rule: Rule, counts: Tally, mode: str = "endorse") -> str:
    if mode == "consult":
        return CONSULTED
    return ENDORSED if is_met(rule, counts) else NOT_ENDORSED


def close_reason(
    rule: Rule, counts: Tally, deadline: datetime, now: datetime, mode: str = "endorse"
) -> str | None:
    """Why an open round must close now, or None. Meeting the rule early is not a reason."""
    if now >= deadline:
        return "deadline"
    if counts.recipients and counts.pending == 0:
        return "all_answered"
    if mode == "endorse" and not can_still_be_met(rule, counts):
        return "impossible"
    return None


def close_outcome(rule: Rule, counts: Tally, mode: str, reason: str) -> str:
    """The outcome a round closes with: the rule on the counts, except that a withdrawn
    statement's round is never endorsed."""
    if reason == "withdrawn":
        return NOT_ENDORSED if mode == "endorse" else CONSULTED
    return outcome(rule, counts, mode)


def _has_outcome(event: EventData) -> bool:
    return event.kwargs.get("outcome") in (ENDORSED, NOT_ENDORSED, CONSULTED)


def _has_close_reason(event: EventData) -> bool:
    return event.kwargs.get("reason") in CLOSE_REASONS


def _record_close(event: EventData) -> None:
    event.model.outcome = event.kwargs["outcome"]
    event.model.close_reason = event.kwargs["reason"]
    event.model.closed_at = event.kwargs.get("at")


ROUND_LIFECYCLE = Lifecycle(
    "round",
    (OPEN, CLOSED),
    [
        {
            "trigger": "close",
            "source": OPEN,
            "dest": CLOSED,
            "conditions": [
                require(_has_outcome, "closing a round needs its outcome"),
                require(_has_close_reason, "closing a round needs a known reason"),
            ],
            "after": [_record_close],
        }
    ],
)


class Round:
    """One circulation of one text version of a statement to a group."""

    def __init__(
        self,
        *,
        statement_id: int,
        group_id: int,
        mode: str,
        rule: str,
        deadline: datetime,
        text_sha256: str,
        version_number: int,
        **fields: Any,
    ) -> None:
        self.statement_id = statement_id
        self.group_id = group_id
        self.mode = mode
        self.rule = rule
        self.deadline = deadline
        self.text_sha256 = text_sha256
        self.version_number = version_number
        self.state = OPEN
        self.outcome: str | None = None
        self.close_reason: str | None = None
        self.closed_at: datetime | None = None
        self.flagged_political = False
        self.counts = Tally()
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def counts(self) -> Tally:
        """The tally of the recipients' current answers, kept with the round (not recounted)."""
        return Tally.kept_by(self)

    @counts.setter
    def counts(self, counts: Tally) -> None:
        for key, number in counts.as_dict().items():
            setattr(self, f"tally_{key}", number)

    def ask(self, recipients: int) -> None:
        """Every recipient is asked (again): nobody has answered this text yet."""
        self.counts = Tally(pending=recipients)

    def fire(self, trigger: str, **kwargs: Any) -> str:
        return ROUND_LIFECYCLE.fire(self, trigger, **kwargs)
