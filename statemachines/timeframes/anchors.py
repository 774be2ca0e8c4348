"""Anchors: the dates and meetings a phrase hangs on, joined into ranges, and its milestones."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from itertools import pairwise

from statemachines.timeframes.expressions import _DASH, _DASHES, _FLAGS, _find_dates
from statemachines.timeframes.model import Milestone
from statemachines.timeframes.windows import (
    _day,
    _Partial,
    _place,
    _place_before,
    _Window,
)


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
