"""Date expressions in a timeframe's words: each pattern, most specific first, and what it reads."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from statemachines.timeframes.windows import (
    _day,
    _months,
    _part_of_month,
    _part_of_year,
    _Partial,
    _window,
)

_FLAGS = re.IGNORECASE | re.ASCII
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DASH = re.escape(_DASHES)
_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# Month names and their usual abbreviations, lower case, to month numbers (reports use it too).
MONTHS = {name: number for number, full in enumerate(_MONTH_NAMES, 1) for name in (full, full[:3])}
MONTHS["sept"] = 9
_MONTH = r"\b(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b\.?"
_FULL_MONTH = r"\b(?P<month>" + "|".join(_MONTH_NAMES) + r")\b"
_YEAR = r"(?P<year>(?:19|20)\d{2})(?!\d)"
_OPT_YEAR = rf"(?:,?\s+{_YEAR})?"
_ORD = r"(?:st|nd|rd|th)?"
_PART_OF = r"(?P<partof>beginning|start|middle|end)\s+of\s+"
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "fourth": 4,
    "last": 4,
    "final": 4,
}
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}


def _group(match: re.Match[str], name: str) -> str | None:
    return match.groupdict().get(name)


def _year_of(match: re.Match[str]) -> int | None:
    year = _group(match, "year")
    return int(year) if year else None


def _month_of(match: re.Match[str]) -> int:
    name = match["month"].lower().rstrip(".")
    return int(name) if name.isdigit() else MONTHS[name]


def _part_of(match: re.Match[str]) -> str:
    return (_group(match, "part") or _group(match, "partof") or "").lower()


def _day_range(match: re.Match[str]) -> _Partial | None:
    first, last, month = int(match["first"]), int(match["day"]), _month_of(match)
    if first >= last:
        return None
    return _Partial(
        lambda y: _window(date(y, month, first), date(y, month, last), "day"), _year_of(match)
    )


def _day_date(match: re.Match[str]) -> _Partial:
    day, month = int(match["day"]), _month_of(match)
    return _Partial(lambda y: _day(date(y, month, day)), _year_of(match))


def _month(match: re.Match[str]) -> _Partial:
    month = _month_of(match)
    return _Partial(lambda y: _months(y, month, 1, "month"), _year_of(match))


def _bare_month(match: re.Match[str]) -> _Partial | None:
    """A month alone, if a preposition or what follows shows it is a date.

    "May" is also a verb and "March" a noun: without a preposition, the month must open the text
    and stand alone ("November (tentative)") or open a range ("March–May 2024").
    """
    if match.start() == 0 and not _AFTER_LONE_MONTH.match(match.string, match.end()):
        return None
    return _month(match)


def _month_part(match: re.Match[str]) -> _Partial:
    part, month = _part_of(match), _month_of(match)
    return _Partial(lambda y: _part_of_month(part, y, month), _year_of(match))


def _quarter(match: re.Match[str]) -> _Partial:
    number = _group(match, "q")
    quarter = int(number) if number else _ORDINALS[match["qw"].lower()]
    return _Partial(lambda y: _months(y, 3 * quarter - 2, 3, "quarter"), _year_of(match))


def _half(match: re.Match[str]) -> _Partial:
    number = _group(match, "h")
    half = int(number) if number else _ORDINALS[match["hw"].lower()]
    return _Partial(lambda y: _months(y, 6 * half - 5, 6, "year"), _year_of(match))


def _season(match: re.Match[str]) -> _Partial:
    first = _SEASONS[match["season"].lower()]
    return _Partial(lambda y: _months(y, first, 3, "season"), _year_of(match))


def _follows(match: re.Match[str]) -> bool:
    """Whether the group `next` is the year after `year`, as in "2023/24" or "2023-2024"."""
    year, following = int(match["year"]), int(match["next"])
    return following in (year + 1, (year + 1) % 100)


def _winter_span(match: re.Match[str]) -> _Partial | None:
    return _season(match) if _follows(match) else None


def _year_span(match: re.Match[str]) -> _Partial | None:
    if not _follows(match):
        return None
    return _Partial(lambda y: _months(y, 1, 24, "year"), _year_of(match))


def _year_part(match: re.Match[str]) -> _Partial:
    part = _part_of(match)
    return _Partial(lambda y: _part_of_year(part, y), _year_of(match))


def _relative_year(match: re.Match[str]) -> _Partial | None:
    """'This year', 'next year', 'the end of the year': years counted from the reference."""
    part, named = _part_of(match), " ".join(match["rel"].lower().split())
    if not part and named in ("year", "the year"):
        return None
    offset = 1 if re.search("next|following|coming", named) else 0
    if not part:
        return _Partial(lambda y: _months(y, 1, 12, "year"), offset=offset)
    return _Partial(lambda y: _part_of_year(part, y), offset=offset)


def _year_end(match: re.Match[str]) -> _Partial:
    return _Partial(lambda y: _part_of_year("end", y), _year_of(match), offset=0)


def _year(match: re.Match[str]) -> _Partial:
    return _Partial(lambda y: _months(y, 1, 12, "year"), _year_of(match))


_AFTER_LONE_MONTH = re.compile(
    rf"\s*(?:$|[,;:(]|(?:[{_DASH}/]|\s(?:to|and|until|till|through)\s)\s*{_MONTH})", _FLAGS
)
_PREPOSITIONS = (
    "in",
    "by",
    "until",
    "till",
    "from",
    "before",
    "during",
    "after",
    "since",
    "around",
    "for",
    "of",
    "starting",
    "between",
    "to",
    "through",
)
# One fixed-width look-behind each, so that the preposition stays out of the date's words.
_AFTER_PREPOSITION = "|".join(rf"(?<=\b{word}\s)" for word in _PREPOSITIONS)

# Most specific first: a span one pattern reads is not read again by a later one.
_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], _Partial | None]], ...] = tuple(
    (re.compile(pattern, _FLAGS), build)
    for pattern, build in (
        (
            rf"(?<!\d)(?P<first>\d{{1,2}}){_ORD}\s*(?:[{_DASH}]|to|and)\s*(?P<day>\d{{1,2}}){_ORD}"
            rf"\s+(?:of\s+)?{_MONTH}{_OPT_YEAR}",
            _day_range,
        ),
        (
            r"(?<![\d.])(?P<year>(?:19|20)\d{2})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)"
            r"(?P<day>\d{1,2})(?!\d)",
            _day_date,
        ),
        (
            rf"(?<![\d./-])(?P<day>\d{{1,2}})(?P<sep>[-/.])(?P<month>\d{{1,2}})(?P=sep){_YEAR}",
            _day_date,
        ),
        (rf"{_MONTH}\s+(?P<day>\d{{1,2}}){_ORD},?\s+{_YEAR}", _day_date),
        (rf"(?<![\d.])(?P<day>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MONTH}{_OPT_YEAR}", _day_date),
        (
            rf"\b(?:the\s+)?(?:(?P<part>early|mid|late|end)[{_DASH}\s]?\s*|{_PART_OF}"
            rf"(?:the\s+month\s+of\s+)?){_MONTH}{_OPT_YEAR}",
            _month_part,
        ),
        (rf"\bQ(?P<q>[1-4])\s*(?:[{_DASH}/,]\s*|of\s+)?{_YEAR}", _quarter),
        (rf"(?<!\d){_YEAR}\s*[{_DASH}/]?\s*Q(?P<q>[1-4])\b", _quarter),
        (
            rf"\b(?:(?P<q>[1-4]){_ORD}|(?P<qw>first|second|third|fourth|last|final))\s+quarter"
            rf"(?:\s+of|,)?\s+(?:the\s+year\s+)?{_YEAR}",
            _quarter,
        ),
        (rf"\bquarter\s+(?P<q>[1-4]),?\s+(?:of\s+)?{_YEAR}", _quarter),
        (rf"\bH(?P<h>[12])\s*(?:[{_DASH}/,]\s*)?{_YEAR}", _half),
        (rf"(?<!\d){_YEAR}\s*[{_DASH}/]?\s*H(?P<h>[12])\b", _half),
        (rf"\b(?P<hw>first|second|1st|2nd)\s+half\s+(?:of\s+)?(?:the\s+year\s+)?{_YEAR}", _half),
        (
            rf"\b(?P<season>winter)(?:\s+of)?\s+{_YEAR}\s*[{_DASH}/]\s*"
            r"(?P<next>(?:19|20)?\d{2})(?!\d)",
            _winter_span,
        ),
        (rf"\b(?P<season>spring|summer|autumn|fall|winter)(?:\s+of)?\s+{_YEAR}", _season),
        (rf"(?<![\d./]){_YEAR}[/{_DASH}](?P<month>0?[1-9]|1[0-2])(?![\d./])", _month),
        (rf"(?<![\d./])(?P<month>0?[1-9]|1[0-2])[/.{_DASH}]{_YEAR}", _month),
        (rf"(?<!\d){_YEAR}\s*[{_DASH}/]\s*(?P<next>\d{{2}})(?!\d)", _year_span),
        (rf"{_MONTH},?\s+(?:of\s+)?{_YEAR}", _month),
        (
            rf"\b(?:the\s+)?(?:(?P<part>early|mid|late|end)[{_DASH}\s]\s*|{_PART_OF}"
            rf"(?:(?:the\s+)?year\s+)?){_YEAR}",
            _year_part,
        ),
        (rf"\b(?:the\s+)?year[{_DASH}\s]?end(?:\s+{_YEAR})?", _year_end),
        (
            rf"\b(?:(?:the\s+)?{_PART_OF})?(?P<rel>(?:the\s+)?year|this\s+year|the\s+(?:current|"
            r"present)\s+year|(?:the\s+)?next\s+year|the\s+(?:following|coming)\s+year)\b",
            _relative_year,
        ),
        (rf"(?:^|{_AFTER_PREPOSITION})(?:the\s+month\s+of\s+)?{_FULL_MONTH}", _bare_month),
        (rf"(?<!\d){_YEAR}", _year),
    )
)


def _find_dates(text: str) -> list[tuple[int, int, _Partial]]:
    found: list[tuple[int, int, _Partial]] = []
    for pattern, build in _PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end, _ in found):
                continue
            partial = build(match)
            if partial is not None:
                found.append((match.start(), match.end(), partial))
    return sorted(found, key=lambda item: item[0])
