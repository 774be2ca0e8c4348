"""Errors the domain raises; every user-facing failure is one of these, with a one-line message.

A message is English text that also keeps its template and values (`Message`), so the console
can show it in the user's language (docs/console.md, "Languages") while `str(error)` stays the
English line the CLI prints.
"""

from __future__ import annotations

from collections.abc import Iterable


class Message(str):
    """`Message("group '{group}' refuses it", group="Board")` is the English text
    "group 'Board' refuses it" (a str everywhere), with its template and values kept to
    translate: a value that is itself a Message is translated too. Without values the template
    is the text as given (braces and all)."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, /, **params: object) -> Message:
        text = super().__new__(cls, template.format(**params) if params else template)
        text.template = getattr(template, "template", template) if not params else template
        text.params = params or dict(getattr(template, "params", {}))
        return text


class AccordError(Exception):
    """Base of every error accord reports to a user as a one-line reason: `str(error)` is its
    Message (English, with the template and values a page translates)."""

    def __init__(self, message: str = "", /, **params: object) -> None:
        self.message = Message(message, **params)
        super().__init__(str.__str__(self.message))

    def __str__(self) -> str:
        return self.message


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
        super().__init__(
            "cannot {trigger} {entity} in state '{state}' (allowed from '{state}': {allowed})",
            trigger=trigger,
            entity=entity,
            state=state,
            allowed=", ".join(self.allowed) if self.allowed else Message("none"),
        )
