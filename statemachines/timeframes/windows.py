"""Windows (start, end, due, precision) and date expressions that may still lack their year."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class _Window:
    start: date
    end: date
    due: date
    precision: str


def _window(start: date, end: date, precision: str) -> _Window:
    return _Window(start, end, end, precision)


def _day(day: date) -> _Window:
    return _window(day, day, "day")


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _months(year: int, first: int, count: int, precision: str) -> _Window:
    """The `count` months from `first` of `year`, running on into the next year if need be."""
    last = first + count - 1
    return _window(
        date(year, first, 1), _month_end(year + (last - 1) // 12, (last - 1) % 12 + 1), precision
    )


def _part_of_month(part: str, year: int, month: int) -> _Window:
    if part in ("early", "beginning", "start"):
        return _window(date(year, month, 1), date(year, month, 10), "month")
    if part in ("mid", "middle"):
        return _Window(
            date(year, month, 11), date(year, month, 20), date(year, month, 15), "mid-month"
        )
    if part == "late":
        return _window(date(year, month, 21), _month_end(year, month), "month")
    return _window(date(year, month, 1), _month_end(year, month), "day")


def _part_of_year(part: str, year: int) -> _Window:
    if part in ("early", "beginning", "start"):
        return _months(year, 1, 4, "year")
    if part in ("mid", "middle"):
        return _months(year, 5, 4, "year")
    if part == "late":
        return _months(year, 9, 4, "year")
    return _window(date(year, 1, 1), date(year, 12, 31), "day")


@dataclass(frozen=True)
class _Partial:
    """A date expression that may still lack its year."""

    make: Callable[[int], _Window]
    year: int | None = None
    offset: int | None = None  # "this year" is 0 and "next year" 1 after the reference's year


def _attempt(make: Callable[[], _Window | None]) -> _Window | None:
    """Runs `make`, reading an impossible date (31 February, year 10000) as no date."""
    try:
        return make()
    except (ValueError, OverflowError):
        return None


def _place(partial: _Partial, reference: date | None) -> _Window | None:
    return _attempt(lambda: _first_not_over(partial, reference))


def _first_not_over(partial: _Partial, reference: date | None) -> _Window | None:
    if partial.year is not None:
        return partial.make(partial.year)
    if reference is None:
        return None
    if partial.offset is not None:
        return partial.make(reference.year + partial.offset)
    window = partial.make(reference.year)
    return window if window.end >= reference else partial.make(reference.year + 1)


def _place_before(partial: _Partial, limit: date) -> _Window | None:
    """Places the yearless first half of a range ("March–May 2024") by the year of the second."""
    if partial.year is not None or partial.offset is not None:
        return None
    return _attempt(lambda: _last_starting_by(partial, limit))


def _last_starting_by(partial: _Partial, limit: date) -> _Window:
    window = partial.make(limit.year)
    return window if window.start <= limit else partial.make(limit.year - 1)
