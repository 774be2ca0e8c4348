"""Split a "Responsible body" cell of a report into the bodies it names, each lead or support."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_ALIASES: dict[str, str] = {
    "icc secretariat": "ICC Secretariat",
    "icc unit": "ICC Secretariat",
    "advisory group": "Advisory Group",
    "icc advisory group": "Advisory Group",
    "members of the advisory group": "Advisory Group",
    "advisory group members": "Advisory Group",
    "reci": "RECI",
    "icc spanish network": "RECI",
    "spanish network of intercultural cities": "RECI",
}

DEFAULT_CITIES: tuple[str, ...] = (
    "Bradford",
    "Stavanger",
    "Reykjavik",
    "Neuchâtel",
    "San Sebastian",
    "Salisbury",
)

_SUPPORT = re.compile(r"\bwith\s+(?:the\s+)?support\s+(?:of|from)\b", re.IGNORECASE)
_LIST = re.compile(r"[,+&;]")
_AND = re.compile(r"(?:^|\s+)and(?:\s+|$)", re.IGNORECASE)
_ENDS = re.compile(r"^[\s.:;–—-]+|[\s.:;–—-]+$")
_ENDS_AND_BRACKETS = re.compile(r"^[\s.:;–—()-]+|[\s.:;–—()-]+$")


@dataclass(frozen=True)
class Responsible:
    name: str  # canonical body name
    role: str  # "lead" | "support"


def split_responsible(
    cell: str, *, known: Mapping[str, str], cities: Collection[str]
) -> list[Responsible]:
    """The bodies in `cell`, in order; those after "with the support of" are support.

    `known` maps an alias (any case) to its canonical name; a name neither known nor a city is
    kept as written (trimmed). A body named twice keeps its first role.
    """
    resolver = _Resolver(known, cities)
    lead, *supported = _SUPPORT.split(cell)
    found: dict[str, Responsible] = {}
    for role, text in [("lead", lead), *(("support", part) for part in supported)]:
        for name in resolver.names(text):
            found.setdefault(_key(name), Responsible(name, role))
    return list(found.values())


class _Resolver:
    """Reads body names out of free text with one set of aliases and cities."""

    def __init__(self, known: Mapping[str, str], cities: Collection[str]) -> None:
        self._aliases = {_key(alias): name for alias, name in known.items()}
        self._cities = {_key(city): city for city in cities}
        self._splitters: tuple[re.Pattern[str], ...] = (_LIST, _AND)
        if cities:
            self._splitters += (_city_run(cities),)

    def names(self, text: str) -> Iterator[str]:
        return self._split(text, self._splitters)

    def _split(self, text: str, splitters: Sequence[re.Pattern[str]]) -> Iterator[str]:
        """Keep a known alias whole ("Bosnia and Herzegovina"), else split on the next splitter."""
        text = _trim(text)
        if not text:
            return
        if not splitters or _key(text) in self._aliases:
            yield self._resolve(text)
            return
        for part in splitters[0].split(text):
            yield from self._split(part, splitters[1:])

    def _resolve(self, name: str) -> str:
        key = _key(name)
        bare = key.removeprefix("the ")
        return self._aliases.get(key) or self._aliases.get(bare) or self._cities.get(key) or name


def _city_run(cities: Collection[str]) -> re.Pattern[str]:
    """Splits "ICC members Bradford Stavanger" around each city, keeping the cities (captured)."""
    names = "|".join(re.escape(city) for city in sorted(cities, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:(?:the\s+)?city\s+of\s+)?({names})(?!\w)", re.IGNORECASE)


def _trim(text: str) -> str:
    """Strip spaces, dashes and stops, and brackets at the ends when a split unbalanced them."""
    if text.count("(") != text.count(")"):
        return _ENDS_AND_BRACKETS.sub("", text)
    return _ENDS.sub("", text)


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()
