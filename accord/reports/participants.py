"""The list of participants at the end of a report: "Name, role, organisation, City, Country"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from accord.reports.bodies import DEFAULT_CITIES

_PARTICIPANTS = re.compile(r"\blist\s+of\s+participants\b|\bliste\s+des\s+participants\b", re.I)
_APPENDIX = re.compile(r"appendix\b|annexe\b", re.IGNORECASE)
_CITY_OF = re.compile(r"(?:the\s+)?(?:city|municipality|town)\s+of\s+(.+)", re.IGNORECASE)
_STATE = re.compile(r"(.+?)\s+(?:state|canton)", re.IGNORECASE)
_KNOWN_CITIES = frozenset(city.casefold() for city in DEFAULT_CITIES)


@dataclass(frozen=True)
class Participant:
    name: str
    role: str | None
    organisation: str | None
    city: str | None
    country: str | None
    section: str  # the "...:" line above, e.g. "Advisory Group members"; "" when there is none


def participants(paragraphs: list[str]) -> tuple[Participant, ...]:
    """One per paragraph after 'List of participants' up to the next appendix, in sections."""
    start = next((i for i, text in enumerate(paragraphs) if _PARTICIPANTS.search(text)), None)
    if start is None:
        return ()
    section = ""
    found: list[Participant] = []
    for text in paragraphs[start + 1 :]:
        if _APPENDIX.match(text):
            break
        if text.endswith(":"):
            section = text[:-1].strip()
        elif participant := _participant(text, section):
            found.append(participant)
    return tuple(found)


def _participant(text: str, section: str) -> Participant | None:
    """'Name, role, organisation, City of X, Country'; only the name is always there.

    A place is recognised only by its city ('City of X', 'X state' or a known city), and the
    part after the city is the country.
    """
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        return None
    name, *rest = parts
    city: str | None = None
    country: str | None = None
    if len(rest) >= 2 and (found := _city(rest[-2])):
        city, country, rest = found, rest[-1], rest[:-2]
    elif rest and (found := _city(rest[-1])):
        city, rest = found, rest[:-1]
    size = _role_size(rest)
    role, organisation = ", ".join(rest[:size]), ", ".join(rest[size:])
    return Participant(name, role or None, organisation or None, city, country, section)


def _city(part: str) -> str | None:
    for pattern in (_CITY_OF, _STATE):
        if match := pattern.fullmatch(part):
            return match[1]
    return part if part.casefold() in _KNOWN_CITIES else None


def _role_size(parts: list[str]) -> int:
    """How many comma parts the role takes: one, unless it opens a list the next parts close.

    'Head of department of Gender Equality, Development Cooperation, Cultural Diversity and Human
    Rights' is one role: '... of A', then plain items, then a last one with 'and'.
    """
    if not parts or " of " not in parts[0] or " and " in parts[0]:
        return min(len(parts), 1)
    closing = next((i for i, part in enumerate(parts) if " and " in part), 0)
    return closing + 1 if closing >= 2 else 1
