"""Plain domain records with no lifecycle: members, groups, bodies, people, meetings, objectives."""

from __future__ import annotations

from datetime import date
from typing import Any


class _Record:
    def __init__(self, **fields: Any) -> None:
        for name, value in fields.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        shown = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        return f"{type(self).__name__}({shown})"


class Member(_Record):
    """Someone who receives statements: name, email, organisation, language, timezone, groups."""

    email: str
    name: str
    organisation: str | None
    language: str
    timezone: str
    undeliverable: bool


class Group(_Record):
    """A set of members with the kinds of message it accepts (political: no, by default)."""

    name: str
    accepts_political: bool
    refused_kinds: list[str]
    auto_publish: bool


class Body(_Record):
    """A responsible body: a city, a network, the secretariat, a group."""

    name: str


class Person(_Record):
    """A participant named in a report; never given an invented email address."""

    name: str
    role: str | None
    organisation: str | None
    city: str | None
    country: str | None


class Meeting(_Record):
    body: str
    title: str
    starts_on: date
    ends_on: date
    place: str | None
    next_meeting_on: date | None
    source_sha256: str


class Objective(_Record):
    number: int
    title: str
