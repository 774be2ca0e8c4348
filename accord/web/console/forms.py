"""Form errors shown next to their fields: messages in English, translated when rendered; and
the two ways a route meets a service's refusal (an error beside a field, or a 404 page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from accord.web.console.security import Refused
from statemachines.errors import AccordError, NotFound

T = TypeVar("T")


def msg(text: str) -> str:
    """Marks a message for the catalogue (`pybabel extract -k msg`); the page translates it."""
    return text


class Errors:
    """Each field's first error; `form` holds one that belongs to no field."""

    def __init__(self) -> None:
        self.by_field: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, message)

    def get(self, field: str) -> str:
        return self.by_field.get(field, "")

    def __bool__(self) -> bool:
        return bool(self.by_field)


def attempt(field: str, change: Callable[[], T]) -> tuple[T | None, Errors]:
    """Run a service's change; its refusal (an AccordError) becomes the error of `field`."""
    errors = Errors()
    try:
        return change(), errors
    except AccordError as exc:
        errors.add(field, str(exc))
        return None, errors


def or_404(read: Callable[[], T]) -> T:
    """A service's read; an entity that does not exist is the console's 404 page."""
    try:
        return read()
    except NotFound as exc:
        raise Refused(404, str(exc)) from None
