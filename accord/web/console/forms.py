"""Form errors shown next to their fields: messages in English, translated when rendered."""

from __future__ import annotations


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
