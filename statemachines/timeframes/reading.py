"""read_timeframe: the timeframe's anchors and flags, put together."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from statemachines.timeframes.anchors import _Anchor, _anchors, _milestones, _overall
from statemachines.timeframes.flags import _NO_DUE, _ONGOING, _TENTATIVE, _recurrence
from statemachines.timeframes.french import to_english
from statemachines.timeframes.model import NEXT_MEETING, Timeframe
from statemachines.timeframes.relative import relative_window


def read_timeframe(
    raw: str, *, reference: date | None = None, next_meeting: date | None = None
) -> Timeframe:
    """Reads `raw` (English or French), written in the report of the meeting held on `reference`."""
    if not isinstance(raw, str):
        raise TypeError(f"a timeframe is text, not {type(raw).__name__}")
    text = to_english(" ".join(raw.split()))
    anchors = _explicit_first(_anchors(text, reference, next_meeting))
    tentative = bool(_TENTATIVE.search(text))
    ongoing = bool(_ONGOING.search(text))
    recurrence = _recurrence(text)
    relative = None if any(a.window for a in anchors) else relative_window(text, reference)
    if relative is not None:
        anchors = [_Anchor(0, 0, 0, None, window=relative)]
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


def _explicit_first(anchors: list[_Anchor]) -> list[_Anchor]:
    """An explicit date wins over a meeting named without one: "by November 2016 in time for the
    upcoming meeting" is due at the end of November 2016, and the meeting is still noted."""
    dated = [anchor for anchor in anchors if anchor.partial is not None and anchor.window]
    undated_meeting = any(anchor.partial is None and anchor.meeting for anchor in anchors)
    if not dated or not undated_meeting:
        return anchors
    return [
        replace(anchor, meeting=True) if i == len(dated) - 1 else anchor
        for i, anchor in enumerate(dated)
    ]
