"""Timeframes of other bodies' trackers (issue 20), in English and French, read from a meeting
held on 29 September 2016 whose next meeting is unknown."""

from __future__ import annotations

from datetime import date

import pytest

from statemachines.timeframes import read_timeframe

MEETING = date(2016, 9, 29)


@pytest.mark.parametrize(
    ("raw", "due", "precision"),
    [
        ("1st Quarter, 2018", "2018-03-31", "quarter"),
        ("Q3 2024", "2024-09-30", "quarter"),
        ("2010/12", "2010-12-31", "month"),
        ("2019-03", "2019-03-31", "month"),
        ("31/12/2024", "2024-12-31", "day"),
        ("December 2024", "2024-12-31", "month"),
        ("Within six months", "2017-03-29", "month"),
        ("Within 3 months of the meeting", "2016-12-29", "month"),
        ("Immediately", "2016-10-29", "asap"),
        ("ASAP", "2016-10-29", "asap"),
        ("by the end of the year", "2016-12-31", "day"),
        (
            "By November 2016 in time for the upcoming Steering Committee meeting",
            "2016-11-30",
            "month",
        ),
        ("1er trimestre 2018", "2018-03-31", "quarter"),
        ("T3 2024", "2024-09-30", "quarter"),
        ("Décembre 2024", "2024-12-31", "month"),
        ("d'ici fin mars 2017", "2017-03-31", "day"),
        ("Dans les six mois", "2017-03-29", "month"),
        ("Dans un délai de 3 mois", "2016-12-29", "month"),
        ("Immédiatement", "2016-10-29", "asap"),
        ("Dès que possible", "2016-10-29", "asap"),
        ("D'ici la fin de l'année", "2016-12-31", "day"),
        ("Le 15 mars 2017", "2017-03-15", "day"),
        ("Novembre 2016, à temps pour la prochaine réunion du comité", "2016-11-30", "month"),
    ],
)
def test_dated_forms(raw: str, due: str, precision: str) -> None:
    timeframe = read_timeframe(raw, reference=MEETING)
    assert (timeframe.due, timeframe.precision, timeframe.unparsed) == (
        date.fromisoformat(due),
        precision,
        False,
    )


@pytest.mark.parametrize(
    ("raw", "flag"),
    [
        ("No due date", None),
        ("Pas de date", None),
        ("Ongoing", "ongoing"),
        ("Continuous", "ongoing"),
        ("En continu", "ongoing"),
        ("En cours", "ongoing"),
        ("By next meeting", "meeting"),
        ("D'ici la prochaine réunion", "meeting"),
    ],
)
def test_undated_forms_are_read_not_guessed(raw: str, flag: str | None) -> None:
    timeframe = read_timeframe(raw, reference=MEETING)
    assert (timeframe.due, timeframe.unparsed) == (None, False)
    assert timeframe.ongoing is (flag == "ongoing")
    assert (timeframe.meeting is not None) is (flag == "meeting")


@pytest.mark.parametrize("raw", ["Update at next informal BMS", "À la prochaine AG informelle"])
def test_an_unknown_meeting_stays_unparsed(raw: str) -> None:
    assert read_timeframe(raw, reference=MEETING).unparsed


def test_relative_phrases_need_the_meeting_date() -> None:
    assert read_timeframe("Within six months").unparsed
    assert read_timeframe("ASAP").unparsed


def test_an_explicit_date_wins_over_a_known_next_meeting() -> None:
    timeframe = read_timeframe(
        "By November 2016 in time for the upcoming Steering Committee meeting",
        reference=MEETING,
        next_meeting=date(2016, 12, 5),
    )
    assert timeframe.due == date(2016, 11, 30)
