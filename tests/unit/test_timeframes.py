"""Timeframes: every cell of the sample report, other trackers' forms, and text read as nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from statemachines.timeframes import Milestone, Timeframe, read_timeframe

# The sample report: meeting of 4-5 July 2023, next meeting on 13 November 2023.
REPORT = date(2023, 7, 4)
NEXT = date(2023, 11, 13)
PRECISIONS = {"day", "month", "mid-month", "season", "quarter", "year", "asap"}


def day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def tf(
    start: str | None = None,
    end: str | None = None,
    due: str | None = None,
    precision: str | None = None,
    **flags: object,
) -> Timeframe:
    """The expected reading, with `raw` left out (it is checked separately)."""
    return Timeframe("", day(start), day(end), day(due), precision, **flags)  # type: ignore[arg-type]


def month(start: str, end: str, **flags: object) -> Timeframe:
    return tf(start, end, end, "month", **flags)


def on(when: str, **flags: object) -> Timeframe:
    return tf(when, when, when, "day", **flags)


def read(raw: str, **kwargs: date | None) -> Timeframe:
    got = read_timeframe(raw, **kwargs)
    assert got.raw is raw
    return replace(got, raw="")


PROPOSE = (
    "Propose questions to the Advisory Group by mid-October 2023; "
    "to be discussed at next Advisory Group meeting in November"
)
FIRST_STEP = Milestone(date(2023, 10, 15), "Propose questions to the Advisory Group", "mid-month")
SECOND_STEP = "to be discussed at next Advisory Group meeting"

# Every timeframe cell of /work/shared/samples/000_33d50ddd6ce56e13.txt, read as the report gives
# them: with the meeting's date and the next meeting's.
SAMPLE = [
    ("September 2023", month("2023-09-01", "2023-09-30")),
    (
        "Possibility to be assessed by next meeting (13 November 2023)",
        on("2023-11-13", tentative=True, meeting="next meeting"),
    ),
    # A deadline on the last day, within the month the text names.
    ("End of September 2023", tf("2023-09-01", "2023-09-30", "2023-09-30", "day")),
    ("By next meeting (13 November 2023)", on("2023-11-13", meeting="next meeting")),
    ("January 2024", month("2024-01-01", "2024-01-31")),
    ("July 2024", month("2024-07-01", "2024-07-31")),
    (
        "To be taken into account for the planning of 2024",
        tf("2024-01-01", "2024-12-31", "2024-12-31", "year"),
    ),
    ("November 2023", month("2023-11-01", "2023-11-30")),
    ("Mid-October 2023", tf("2023-10-11", "2023-10-20", "2023-10-15", "mid-month")),
    ("13 November 2023", on("2023-11-13")),
    # "annual survey" names the survey; it does not make the action recur.
    ("Starting in January 2024 with the annual survey", month("2024-01-01", "2024-01-31")),
    ("Ongoing – to be taken into account in ICC calendar planning", tf(ongoing=True)),
    (
        "Spring 2024 (tentative, availability of the city of Bradford to be confirmed)",
        tf("2024-03-01", "2024-05-31", "2024-05-31", "season", tentative=True),
    ),
    (
        "Website restructuring to be carried out by December 2024, "
        "in line with the management response",
        month("2024-12-01", "2024-12-31"),
    ),
    ("Mid-September 2023", tf("2023-09-11", "2023-09-20", "2023-09-15", "mid-month")),
    (
        "Starting in 2024 and repeating every year",
        tf("2024-01-01", "2024-12-31", "2024-12-31", "year", recurrence="FREQ=YEARLY"),
    ),
    (
        PROPOSE,
        tf(
            "2023-10-11",
            "2023-11-13",
            "2023-11-13",
            "day",
            meeting="next meeting",
            milestones=(FIRST_STEP, Milestone(date(2023, 11, 13), SECOND_STEP, "day")),
        ),
    ),
    (
        "The ICC Spanish network - RECI - is currently working on this and will share its work "
        "by the next meeting (13 November 2023)",
        on("2023-11-13", meeting="next meeting"),
    ),
    ("Ongoing", tf(ongoing=True)),
]


@pytest.mark.parametrize(("raw", "expected"), SAMPLE, ids=[raw[:40] for raw, _ in SAMPLE])
def test_sample_report_cells(raw: str, expected: Timeframe) -> None:
    assert read(raw, reference=REPORT, next_meeting=NEXT) == expected


# (raw, reference, next meeting, expected)
OTHERS = [
    # The sample's two-step phrase when the report gives no next meeting, or not even its date.
    (
        PROPOSE,
        REPORT,
        None,
        tf(
            "2023-10-11",
            "2023-11-30",
            "2023-11-30",
            "month",
            meeting="next meeting",
            milestones=(FIRST_STEP, Milestone(date(2023, 11, 30), SECOND_STEP, "month")),
        ),
    ),
    (
        PROPOSE,
        None,
        None,
        tf(
            "2023-10-11",
            meeting="next meeting",
            milestones=(FIRST_STEP, Milestone(None, SECOND_STEP, None)),
        ),
    ),
    # Without a year, "November" takes the year of the next meeting it is tied to.
    ("At the next meeting in November", None, NEXT, on("2023-11-13", meeting="next meeting")),
    # The text's own date wins over a next meeting that does not agree with it.
    (
        "By next meeting (13 November 2023)",
        REPORT,
        date(2023, 11, 14),
        on("2023-11-13", meeting="next meeting"),
    ),
    ("By next meeting", REPORT, None, tf(meeting="next meeting")),
    ("By next meeting", REPORT, NEXT, on("2023-11-13", meeting="next meeting")),
    ("Q1 2018", None, None, tf("2018-01-01", "2018-03-31", "2018-03-31", "quarter")),
    ("1st Quarter, 2018", None, None, tf("2018-01-01", "2018-03-31", "2018-03-31", "quarter")),
    ("2018-Q4", None, None, tf("2018-10-01", "2018-12-31", "2018-12-31", "quarter")),
    ("2019/03", None, None, month("2019-03-01", "2019-03-31")),
    ("03/2019", None, None, month("2019-03-01", "2019-03-31")),
    (
        "by November 2016 in time for the annual meeting",
        None,
        None,
        month("2016-11-01", "2016-11-30"),
    ),
    ("Sept. 2023", None, None, month("2023-09-01", "2023-09-30")),
    ("No due date", None, None, tf()),
    ("n/a", None, None, tf()),
    ("TBD", None, None, tf(tentative=True)),
    ("To be confirmed", REPORT, NEXT, tf(tentative=True)),
    ("end of 2024", None, None, tf("2024-01-01", "2024-12-31", "2024-12-31", "day")),
    ("year-end 2024", None, None, tf("2024-01-01", "2024-12-31", "2024-12-31", "day")),
    ("early 2025", None, None, tf("2025-01-01", "2025-04-30", "2025-04-30", "year")),
    ("mid-2025", None, None, tf("2025-05-01", "2025-08-31", "2025-08-31", "year")),
    ("late 2025", None, None, tf("2025-09-01", "2025-12-31", "2025-12-31", "year")),
    ("early October 2023", None, None, month("2023-10-01", "2023-10-10")),
    ("late October 2023", None, None, month("2023-10-21", "2023-10-31")),
    ("Autumn 2023", None, None, tf("2023-09-01", "2023-11-30", "2023-11-30", "season")),
    ("Fall 2023", None, None, tf("2023-09-01", "2023-11-30", "2023-11-30", "season")),
    ("Winter 2023", None, None, tf("2023-12-01", "2024-02-29", "2024-02-29", "season")),
    ("Winter 2023/24", None, None, tf("2023-12-01", "2024-02-29", "2024-02-29", "season")),
    ("H1 2024", None, None, tf("2024-01-01", "2024-06-30", "2024-06-30", "year")),
    ("second half of 2024", None, None, tf("2024-07-01", "2024-12-31", "2024-12-31", "year")),
    ("2023/24", None, None, tf("2023-01-01", "2024-12-31", "2024-12-31", "year")),
    ("2024-03-15", None, None, on("2024-03-15")),
    ("15/03/2024", None, None, on("2024-03-15")),
    ("15.03.2024", None, None, on("2024-03-15")),
    ("November 13, 2023", None, None, on("2023-11-13")),
    ("13th of November 2023", None, None, on("2023-11-13")),
    ("4-5 July 2023", None, None, tf("2023-07-04", "2023-07-05", "2023-07-05", "day")),
    ("13 November", REPORT, None, on("2023-11-13")),
    ("by the end of the year", REPORT, None, tf("2023-01-01", "2023-12-31", "2023-12-31", "day")),
    ("next year", REPORT, None, tf("2024-01-01", "2024-12-31", "2024-12-31", "year")),
    # A month without a year is the first such month not over at the meeting.
    ("in November", REPORT, None, month("2023-11-01", "2023-11-30")),
    ("in July", REPORT, None, month("2023-07-01", "2023-07-31")),
    ("in March", REPORT, None, month("2024-03-01", "2024-03-31")),
    ("mid-October", REPORT, None, tf("2023-10-11", "2023-10-20", "2023-10-15", "mid-month")),
    ("November (tentative)", REPORT, None, month("2023-11-01", "2023-11-30", tentative=True)),
    ("March–May 2024", None, None, month("2024-03-01", "2024-05-31")),
    ("from November 2023 to February", None, None, month("2023-11-01", "2024-02-29")),
    ("between September and November 2023", None, None, month("2023-09-01", "2023-11-30")),
    ("November 2023 (13 November 2023)", None, None, on("2023-11-13")),
    (
        "Draft by September 2023, final version by December 2023",
        None,
        None,
        month(
            "2023-09-01",
            "2023-12-31",
            milestones=(
                Milestone(date(2023, 9, 30), "Draft", "month"),
                Milestone(date(2023, 12, 31), "final version", "month"),
            ),
        ),
    ),
    (
        "Every month from March 2024",
        None,
        None,
        month("2024-03-01", "2024-03-31", recurrence="FREQ=MONTHLY"),
    ),
    (
        "Quarterly, starting in April 2024",
        None,
        None,
        month("2024-04-01", "2024-04-30", recurrence="FREQ=MONTHLY;INTERVAL=3"),
    ),
    # No start to repeat from: the rule is kept, no date is made up.
    ("quarterly", REPORT, None, tf(recurrence="FREQ=MONTHLY;INTERVAL=3")),
    (
        "every two years from 2024",
        None,
        None,
        tf("2024-01-01", "2024-12-31", "2024-12-31", "year", recurrence="FREQ=YEARLY;INTERVAL=2"),
    ),
    (
        "Ongoing, reviewed twice a year",
        None,
        None,
        tf(ongoing=True, recurrence="FREQ=MONTHLY;INTERVAL=6"),
    ),
]


@pytest.mark.parametrize(
    ("raw", "reference", "next_meeting", "expected"),
    OTHERS,
    ids=[f"{raw[:40]}|{reference}|{meeting}" for raw, reference, meeting, _ in OTHERS],
)
def test_other_forms(
    raw: str, reference: date | None, next_meeting: date | None, expected: Timeframe
) -> None:
    assert read(raw, reference=reference, next_meeting=next_meeting) == expected


UNREAD = [
    ("", REPORT),
    ("   ", REPORT),
    ("whenever the stars align", REPORT),
    ("-", REPORT),
    # Never guess a year.
    ("in November", None),
    ("mid-October", None),
    ("by the end of the year", None),
    # "May" the verb, and a date that does not exist.
    ("May be postponed", REPORT),
    ("31 February 2024", REPORT),
    ("03/15/2024", REPORT),
]


@pytest.mark.parametrize(("raw", "reference"), UNREAD)
def test_unreadable_text_is_flagged_and_kept(raw: str, reference: date | None) -> None:
    assert read(raw, reference=reference, next_meeting=NEXT) == tf(unparsed=True)


@pytest.mark.parametrize(
    ("raw", "first"),
    [
        ("Starting in 2024 and repeating every year", datetime(2025, 1, 1)),
        ("Every month from March 2024", datetime(2024, 4, 1)),
        ("Quarterly, starting in April 2024", datetime(2024, 7, 1)),
        ("every two years from 2024", datetime(2026, 1, 1)),
    ],
)
def test_recurrence_is_an_rrule_repeating_from_the_start(raw: str, first: datetime) -> None:
    got = read_timeframe(raw)
    assert got.start is not None and got.recurrence is not None
    start = datetime.combine(got.start, datetime.min.time())
    rule = rrulestr(got.recurrence, dtstart=start)
    assert rule[0] == start
    assert rule[1] == first


def test_to_dict_is_json_ready() -> None:
    got = read_timeframe(PROPOSE, reference=REPORT, next_meeting=NEXT)
    assert json.loads(json.dumps(got.to_dict())) == {
        "raw": PROPOSE,
        "start": "2023-10-11",
        "end": "2023-11-13",
        "due": "2023-11-13",
        "precision": "day",
        "tentative": False,
        "ongoing": False,
        "recurrence": None,
        "meeting": "next meeting",
        "milestones": [
            {"due": "2023-10-15", "text": FIRST_STEP.text, "precision": "mid-month"},
            {"due": "2023-11-13", "text": SECOND_STEP, "precision": "day"},
        ],
        "unparsed": False,
    }


def test_only_text_is_read() -> None:
    with pytest.raises(TypeError):
        read_timeframe(None)  # type: ignore[arg-type]


TOKENS = [
    "by",
    "in",
    "the",
    "end of",
    "mid-",
    "early",
    "late",
    "next meeting",
    "next year",
    "the year",
    "between",
    "and",
    "to",
    "–",
    "-",
    "/",
    "(",
    ")",
    ";",
    ",",
    "November",
    "May",
    "Sept.",
    "March",
    "13",
    "31",
    "29 February",
    "2023",
    "2024",
    "2099",
    "1900",
    "24",
    "Q1",
    "H2",
    "1st Quarter",
    "winter",
    "Spring",
    "2019/03",
    "15/03/2024",
    "2024-13-45",
    "ongoing",
    "TBD",
    "every",
    "two",
    "years",
    "quarterly",
    "annually",
    "no due date",
    "tentative",
    "year-end",
]
PHRASES = st.text() | st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(raw=PHRASES, reference=st.none() | st.dates(), next_meeting=st.none() | st.dates())
def test_never_raises_and_keeps_raw(
    raw: str, reference: date | None, next_meeting: date | None
) -> None:
    got = read_timeframe(raw, reference=reference, next_meeting=next_meeting)
    assert got.raw is raw
    json.dumps(got.to_dict())
    if got.unparsed:
        assert replace(got, raw="") == tf(unparsed=True)
    assert got.precision is None or got.precision in PRECISIONS
    if got.start and got.due:
        assert got.start <= got.due
    if got.due and got.end:
        assert got.due <= got.end
