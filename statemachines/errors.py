"""Errors the domain raises; every user-facing failure is one of these, with a one-line message."""

from __future__ import annotations

from collections.abc import Iterable


class AccordError(Exception):
    """Base of every error accord reports to a user as a one-line reason."""


class InvalidInput(AccordError):
    """Input (a file, a row, an option) that cannot be accepted."""


class GuardFailed(AccordError):
    """A transition is known from this state but its condition does not hold."""


class NotFound(AccordError):
    """A referenced entity does not exist."""


class Conflict(AccordError):
    """Another writer changed the same entity first; re-read and try again."""


class IllegalTransition(AccordError):
    """A trigger that is not allowed from the entity's current state."""

    def __init__(self, entity: str, trigger: str, state: str, allowed: Iterable[str]) -> None:
        self.entity = entity
        self.trigger = trigger
        self.state = state
        self.allowed = sorted(allowed)
        allowed_text = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(
            f"cannot {trigger} {entity} in state '{state}' (allowed from '{state}': {allowed_text})"
        )
