"""Read the free-text timeframe of a follow-up action (design.md, "Timeframes").

The raw text is always kept. What can be read becomes a window (start, end), a due date and a
precision; what cannot is flagged `unparsed` and never guessed. Rules worth knowing:

- The window is the period the text names, whatever the preposition: "by December 2024" and
  "starting in December 2024" both give 2024-12-01..2024-12-31, due on the 31st.
- "End of <period>" is a deadline on the period's last day: precision "day", window the period.
- "Early/mid/late <month>" are the thirds 1-10, 11-20 (due the 15th, "mid-month"), 21-end.
  "Early/mid/late <year>" are Jan-Apr, May-Aug, Sep-Dec. These and half years (H1, H2) get
  precision "year": precision never claims more than the text says.
- Seasons are meteorological and northern: winter 2023 is December 2023 to February 2024.
- A month or day without a year needs `reference`: it is the first such period not over by then.
- Several dates that are not one range become milestones; the timeframe is due with the last.
- "Next meeting" is `next_meeting` when it is given and agrees with any date the text names.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from itertools import pairwise
from typing import Any

NEXT_MEETING = "next meeting"


@dataclass(frozen=True)
class Milestone:
    due: date | None
    text: str
    precision: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {"due": _iso(self.due), "text": self.text, "precision": self.precision}


@dataclass(frozen=True)
class Timeframe:
    raw: str
    start: date | None
    end: date | None
    due: date | None
    precision: str | None
    tentative: bool = False
    ongoing: bool = False
    recurrence: str | None = None
    meeting: str | None = None
    milestones: tuple[Milestone, ...] = ()
    unparsed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as YYYY-MM-DD or None."""
        return {
            "raw": self.raw,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "due": _iso(self.due),
            "precision": self.precision,
            "tentative": self.tentative,
            "ongoing": self.ongoing,
            "recurrence": self.recurrence,
            "meeting": self.meeting,
            "milestones": [milestone.to_dict() for milestone in self.milestones],
            "unparsed": self.unparsed,
        }


def read_timeframe(
    raw: str, *, reference: date | None = None, next_meeting: date | None = None
) -> Timeframe:
    """Reads `raw`, written in the report of the meeting held on `reference`."""
    if not isinstance(raw, str):
        raise TypeError(f"a timeframe is text, not {type(raw).__name__}")
    text = " ".join(raw.split())
    anchors = _anchors(text, reference, next_meeting)
    tentative = bool(_TENTATIVE.search(text))
    ongoing = bool(_ONGOING.search(text))
    recurrence = _recurrence(text)
    read = any(a.window or a.meeting for a in anchors) or bool(_NO_DUE.search(text))
    if not (read or tentative or ongoing or recurrence):
        return Timeframe(raw, None, None, None, None, unparsed=True)
    return Timeframe(
        raw,
        *_overall(anchors),
        tentative=tentative,
        ongoing=ongoing,
        recurrence=recurrence,
        meeting=NEXT_MEETING if any(a.meeting for a in anchors) else None,
        milestones=_milestones(text, anchors),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- Windows -------------------------------------------------------------------------------


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


# --- Date expressions ----------------------------------------------------------------------

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


# --- Anchors: the dates and meetings a phrase hangs on ----------------------------------------


@dataclass(frozen=True)
class _Anchor:
    begin: int  # the date's words, left out of a milestone's text
    end: int
    stop: int  # where the anchor's words end, the meeting's included
    partial: _Partial | None  # None for "next meeting" without a date
    meeting: bool = False
    window: _Window | None = None


_MEETING = re.compile(
    r"\b(?:the\s+)?(?:next|following|upcoming|forthcoming)\s+"
    r"(?:(?!(?:and|or|by|to|in|on|at|the|for|with|of)\b)[a-z][\w-]*\s+){0,4}?meeting\b",
    _FLAGS,
)
_DATE_AFTER_MEETING = re.compile(
    r"\s*[(,:]?\s*(?:(?:in|on|at|of|i\.e\.|scheduled\s+for|planned\s+for|held\s+on)\s+)?\(?\s*",
    _FLAGS,
)
_DATE_BEFORE_MEETING = re.compile(r"\s*[(,:]?\s*(?:(?:at|i\.e\.|for)\s+)?", _FLAGS)
_RANGE = re.compile(rf"\s*(?:[{_DASH}/]|to|until|till|through)\s*", _FLAGS)
_AND = re.compile(r"\s*and\s*", _FLAGS)
_BETWEEN = re.compile(r"\bbetween\s*$", _FLAGS)
_REFINEMENT = re.compile(r"\s*[(,:]?\s*", _FLAGS)


def _anchors(text: str, reference: date | None, next_meeting: date | None) -> list[_Anchor]:
    anchors = [_Anchor(begin, end, end, partial) for begin, end, partial in _find_dates(text)]
    anchors = _with_meetings(text, anchors)
    anchors = [_placed(anchor, reference, next_meeting) for anchor in anchors]
    return _joined(text, anchors)


def _with_meetings(text: str, dates: list[_Anchor]) -> list[_Anchor]:
    """Ties each "next meeting" to the date written beside it, or makes it an anchor itself."""
    anchors = list(dates)
    for match in _MEETING.finditer(text):
        index = _date_beside(text, dates, match)
        if index is None:
            anchors.append(_Anchor(match.end(), match.end(), match.end(), None, meeting=True))
        else:
            date_anchor = anchors[index]
            anchors[index] = replace(
                date_anchor, stop=max(date_anchor.stop, match.end()), meeting=True
            )
    return sorted(anchors, key=lambda anchor: anchor.begin)


def _date_beside(text: str, dates: list[_Anchor], match: re.Match[str]) -> int | None:
    for index, anchor in enumerate(dates):
        if anchor.begin >= match.end() and _DATE_AFTER_MEETING.fullmatch(
            text, match.end(), anchor.begin
        ):
            return index
    for index, anchor in enumerate(dates):
        if anchor.end <= match.start() and _DATE_BEFORE_MEETING.fullmatch(
            text, anchor.end, match.start()
        ):
            return index
    return None


def _placed(anchor: _Anchor, reference: date | None, next_meeting: date | None) -> _Anchor:
    """Gives the anchor its window; a meeting inside a named period narrows it to that day."""
    if anchor.partial is None:
        return replace(anchor, window=_day(next_meeting) if next_meeting else None)
    window = _place(anchor.partial, reference or (next_meeting if anchor.meeting else None))
    if (
        anchor.meeting
        and next_meeting
        and window
        and window.start < window.end
        and window.start <= next_meeting <= window.end
    ):
        window = _day(next_meeting)
    return replace(anchor, window=window)


def _joined(text: str, anchors: list[_Anchor]) -> list[_Anchor]:
    """Joins ranges ("March–May 2024") and restatements ("November (13 November 2023)")."""
    joined: list[_Anchor] = []
    for anchor in anchors:
        window = _range(text, joined[-1], anchor) if joined else None
        window = window or (_refinement(text, joined[-1], anchor) if joined else None)
        if window is None:
            joined.append(anchor)
            continue
        first = joined[-1]
        joined[-1] = replace(
            first,
            end=anchor.end,
            stop=max(first.stop, anchor.stop),
            meeting=first.meeting or anchor.meeting,
            window=window,
        )
    return joined


def _range(text: str, first: _Anchor, last: _Anchor) -> _Window | None:
    if first.partial is None or last.partial is None or not _is_range_gap(text, first, last):
        return None
    start, finish = first.window, last.window
    if start is None and finish is not None:
        start = _place_before(first.partial, finish.start)
    if finish is None and start is not None:
        finish = _place(last.partial, start.start)
    if start is None or finish is None or start.start > finish.due:
        return None
    return _Window(start.start, finish.end, finish.due, finish.precision)


def _is_range_gap(text: str, first: _Anchor, last: _Anchor) -> bool:
    if _RANGE.fullmatch(text, first.end, last.begin):
        return True
    return bool(
        _AND.fullmatch(text, first.end, last.begin) and _BETWEEN.search(text, 0, first.begin)
    )


def _refinement(text: str, first: _Anchor, last: _Anchor) -> _Window | None:
    if not (first.window and last.window and _REFINEMENT.fullmatch(text, first.end, last.begin)):
        return None
    outer, inner = sorted((first.window, last.window), key=lambda w: w.end - w.start, reverse=True)
    return inner if outer.start <= inner.start and inner.end <= outer.end else None


# --- Result ----------------------------------------------------------------------------------


def _overall(anchors: list[_Anchor]) -> tuple[date | None, date | None, date | None, str | None]:
    """Start, end, due and precision: from the first start to the last anchor's window."""
    starts = [anchor.window.start for anchor in anchors if anchor.window]
    last = anchors[-1].window if anchors else None
    if last is None:
        return min(starts, default=None), None, None, None
    return min(starts), last.end, last.due, last.precision


_CONNECTOR_AT_END = re.compile(
    r"\b(?:by|in|on|at|until|till|before|during|from|for|around|after|between|starting(?:\s+in)?)"
    r"\s*(?:the\s+)?$",
    _FLAGS,
)
_LEADING_WORD = re.compile(r"^(?:and|then|and\s+then)\b\s*", _FLAGS)


def _milestones(text: str, anchors: list[_Anchor]) -> tuple[Milestone, ...]:
    if len(anchors) < 2:
        return ()
    cuts = [0, *(_cut(text, first, last) for first, last in pairwise(anchors)), len(text)]
    return tuple(
        _milestone(text, anchor, cuts[index], cuts[index + 1])
        for index, anchor in enumerate(anchors)
    )


def _cut(text: str, first: _Anchor, last: _Anchor) -> int:
    """Where one milestone's words end: at a semicolon, else right after the first's date."""
    semicolon = text.find(";", first.stop, last.begin)
    return first.stop if semicolon < 0 else semicolon


def _milestone(text: str, anchor: _Anchor, start: int, stop: int) -> Milestone:
    before = _CONNECTOR_AT_END.sub("", text[start : anchor.begin])
    label = _tidy(f"{before} {text[anchor.end : stop]}") or _tidy(text[start:stop])
    window = anchor.window
    return Milestone(window.due if window else None, label, window.precision if window else None)


def _tidy(words: str) -> str:
    words = " ".join(re.sub(r"\(\s*\)", " ", words).split())
    words = _LEADING_WORD.sub("", words.lstrip(f" ,;:.){_DASHES}"))
    return words.rstrip(f" ,;:.({_DASHES}")


# --- Flags -----------------------------------------------------------------------------------

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
