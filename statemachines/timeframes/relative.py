"""Timeframes counted from the meeting: "within six months", "immediately", "ASAP".

They need the meeting's date; without it they stay unread. "Immediately" and "ASAP" are due
soon, `ASAP_DAYS` after the meeting, with precision "asap": no more exact than the text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from statemachines.timeframes.expressions import _FLAGS
from statemachines.timeframes.windows import _Window

ASAP_DAYS = 30
_COUNTS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "eighteen": 18,
    "twenty-four": 24,
}
_WITHIN = re.compile(
    r"\b(?:within|in\s+the\s+next|in\s+the\s+coming|no\s+later\s+than)\s+(?:the\s+)?"
    r"(?:(?P<n>\d{1,3}|" + "|".join(sorted(_COUNTS, key=len, reverse=True)) + r")\s+)?"
    r"(?P<unit>day|week|month|year)s?\b",
    _FLAGS,
)
_SOON = re.compile(
    r"\b(?:immediately|immediate|asap|a\.s\.a\.p\.?|as\s+soon\s+as\s+possible|urgent(?:ly)?|"
    r"right\s+away|without\s+delay)(?!\w)",
    _FLAGS,
)


def relative_window(text: str, reference: date | None) -> _Window | None:
    """The window a phrase counted from the meeting names, or None."""
    if reference is None:
        return None
    try:
        return _counted(text, reference)
    except (ValueError, OverflowError):  # past the year 9999
        return None


def _counted(text: str, reference: date) -> _Window | None:
    if within := _WITHIN.search(text):
        count = (within["n"] or "one").lower()
        number = int(count) if count.isdigit() else _COUNTS[count]
        unit = within["unit"].lower()
        if number < 1:
            return None
        due = reference + relativedelta(**{f"{unit}s": number})
        precision = "month" if unit in ("month", "year") else "day"
        return _Window(reference, due, due, precision)
    if _SOON.search(text):
        due = reference + timedelta(days=ASAP_DAYS)
        return _Window(reference, due, due, "asap")
    return None
