"""Flags of a timeframe: tentative, ongoing, no due date, and the recurrence it states."""

from __future__ import annotations

import re

from statemachines.timeframes.expressions import _DASH, _FLAGS

_TENTATIVE = re.compile(
    r"\btentative(?:ly)?\b|\bpossib(?:ility|ilities|ly)\b|\bprovisional(?:ly)?\b|\btb[acd]\b"
    r"|\bto\s+be\s+(?:confirmed|determined|decided|defined|agreed|announced|scheduled|fixed)\b"
    r"|\bsubject\s+to\b",
    _FLAGS,
)
_ONGOING = re.compile(
    rf"\bon[{_DASH}\s]?going\b|\bcontinu(?:ous(?:ly)?|ing)\b|\bpermanent(?:ly)?\b"
    r"|\bon\s+an?\s+(?:continuous|continuing|permanent|rolling|regular)\s+basis\b",
    _FLAGS,
)
_NO_DUE = re.compile(
    r"\bno\s+(?:(?:fixed|specific|set|particular)\s+)?(?:due\s+date|deadline|time\s?frame|date)\b"
    r"|\bnot\s+applicable\b|^\W*(?:n/?a|none)\W*$",
    _FLAGS,
)
_NUMBERS = {"other": 2, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "twelve": 12}
_FREQUENCIES = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}
_EVERY_N = re.compile(
    r"\bevery\s+(?P<n>\d{1,3}|" + "|".join(_NUMBERS) + r")\s+(?P<unit>day|week|month|year)s?\b",
    _FLAGS,
)
# Words of frequency, but not "annual": an "annual survey" or "annual meeting" names a thing the
# action uses, not how often the action itself recurs.
_RULES = tuple(
    (re.compile(pattern, _FLAGS), rule)
    for pattern, rule in (
        (r"\bbiennial(?:ly)?\b", "FREQ=YEARLY;INTERVAL=2"),
        (
            r"\btwice\s+(?:a|per)\s+year\b|\bsemi-?annually\b|\bhalf-?yearly\b",
            "FREQ=MONTHLY;INTERVAL=6",
        ),
        (
            r"\bquarterly\b|\b(?:every|each|once\s+a|once\s+per)\s+quarter\b",
            "FREQ=MONTHLY;INTERVAL=3",
        ),
        (r"\b(?:every|each|once\s+a|once\s+per)\s+year\b|\bannually\b|\byearly\b", "FREQ=YEARLY"),
        (r"\b(?:every|each|once\s+a|once\s+per)\s+month\b|\bmonthly\b", "FREQ=MONTHLY"),
        (r"\bfortnightly\b|\bevery\s+fortnight\b", "FREQ=WEEKLY;INTERVAL=2"),
        (r"\b(?:every|each|once\s+a|once\s+per)\s+week\b|\bweekly\b", "FREQ=WEEKLY"),
        (r"\b(?:every|each)\s+day\b|\bdaily\b", "FREQ=DAILY"),
    )
)


def _recurrence(text: str) -> str | None:
    """The RRULE (RFC 5545) the text states, without DTSTART: that is the timeframe's start."""
    every = _EVERY_N.search(text)
    if every:
        count = every["n"].lower()
        interval = int(count) if count.isdigit() else _NUMBERS[count]
        if interval < 1:
            return None
        rule = f"FREQ={_FREQUENCIES[every['unit'].lower()]}"
        return rule if interval == 1 else f"{rule};INTERVAL={interval}"
    return next((rule for pattern, rule in _RULES if pattern.search(text)), None)
