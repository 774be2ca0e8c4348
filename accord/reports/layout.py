"""Where a report says what: its meeting date, body and title, the next meeting, its sections.

The meeting date is looked for in the title and the first lines, in the common forms ("29
September 2016", "2016-09-29", "29/09/2016", "4-5 July 2023", "Strasbourg, 4 and 5 July 2023",
"29 septembre 2016"). Sections are, by preference, "Objective N – title" lines, numbered headings
("2.", "II.", "Item 4"), or other headings (Markdown, Word styles, bold lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from accord.reports.items import Paragraph
from statemachines.errors import InvalidInput
from statemachines.timeframes import MONTHS

_FRENCH_MONTHS = {
    "janvier": 1,
    "janv": 1,
    "février": 2,
    "fevrier": 2,
    "févr": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "décembre": 12,
    "decembre": 12,
}
MONTH_NUMBERS = {**MONTHS, **_FRENCH_MONTHS}
_MONTH = r"(?:" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True)) + r")"
_DAY = r"\d{1,2}(?:st|nd|rd|th|er)?"
_DATE = r"(?P<{0}d>\d{{1,2}})(?:st|nd|rd|th|er)?\s+(?P<{0}m>[^\W\d_]+)\.?,?\s+(?P<{0}y>\d{{4}})"
# The sample's own date line: "4-5 July 2023 – Strasbourg, France", the whole paragraph.
_DATE_LINE = re.compile(
    r"(?:(?P<d1>\d{1,2})(?:\s+(?P<m1>[^\W\d_]+)\.?(?:\s+(?P<y1>\d{4}))?)?\s*[-–—]\s*)?"
    + _DATE.format("end_")
    + r"(?:\s*[-–—,]\s*(?P<place>\S.*?))?\s*"
)
# A date anywhere in a line: the forms above, and ISO, numeric and "September 29, 2016".
_ANY_DATE = re.compile(
    rf"(?P<first>{_DAY})(?:\s+(?P<firstm>{_MONTH})\.?)?\s*(?:[-–—]|and|et|to|au)\s*"
    rf"(?P<d>{_DAY})\s+(?P<m>{_MONTH})\.?,?\s+(?P<y>\d{{4}})"
    rf"|(?P<d2>{_DAY})\s+(?P<m2>{_MONTH})\.?,?\s+(?P<y2>\d{{4}})"
    rf"|(?P<m3>{_MONTH})\.?\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y3>\d{{4}})"
    r"|(?<![\d/.-])(?P<y4>\d{4})-(?P<m4>\d{1,2})-(?P<d4>\d{1,2})(?![\d/.-])"
    r"|(?<![\d/.-])(?P<d5>\d{1,2})[/.](?P<m5>\d{1,2})[/.](?P<y5>\d{4})(?![\d/.-])",
    re.IGNORECASE,
)
_NEXT_MEETING = re.compile(
    r"\b(?:next|following|second|third|\d+(?:st|nd|rd|th))\s+(?:[\w-]+\s+){0,3}?meeting\s*\(\s*"
    + _DATE.format(""),
    re.IGNORECASE,
)
_NEXT_MEETING_LABEL = re.compile(
    r"\b(?:next\s+meeting|prochaine\s+réunion|date\s+of\s+(?:the\s+)?next\s+meeting)\b\s*"
    r"(?:[:–—-]|will\s+be\s+(?:held\s+)?(?:on\s+)?|aura\s+lieu\s+(?:le\s+)?)\s*",
    re.IGNORECASE,
)
_BODY_DASH_MEETING = re.compile(r"(.+)\s+[-–—]\s+(.*\bmeeting\b.*)", re.IGNORECASE)
_TITLE_SPLIT = re.compile(r"\s+[-–—|]\s+|\s*:\s+")
_TITLE_PREFIX = re.compile(
    r"^(?:(?:summary\s+)?(?:minutes|report|record|notes|action\s+points|conclusions)\s+of\s+"
    r"(?:the\s+)?|(?:compte[- ]rendu|procès[- ]verbal|relevé\s+de\s+décisions|conclusions)\s+"
    r"(?:de\s+la\s+|du\s+|des\s+|de\s+l['’]|de\s+))",
    re.IGNORECASE,
)
FIRST_LINES = 12
_OBJECTIVE = re.compile(r"(?:Objective|Objectif)\s+(\d+)\s*[-–—:.]\s*(.+?)[\s.]*", re.IGNORECASE)
_NUMBERED = re.compile(
    r"(?:(?:item|point|section|part|partie|agenda\s+item)\s+(?P<item>\d{1,2}|[IVXL]{1,6})\b"
    r"\s*[-–—:.)]?|(?P<number>\d{1,2})[.)]|(?P<roman>[IVXL]{1,6})[.)])\s*(?P<title>[^\W\d_].*?)[\s.:]*",
    re.IGNORECASE,
)
_CAPTION = re.compile(
    r"^(?:agreed\s+|key\s+|follow[- ]up\s+|main\s+)*(?:actions?|action\s+points?|decisions?|"
    r"tasks?|next\s+steps?|follow[- ]up|actions?\s+convenues?|relevé\s+de\s+décisions|suivi|"
    r"décisions?|list\s+of\s+participants|participants|appendix|annexe?s?|next\s+meeting|"
    r"prochaine\s+réunion)\b",
    re.IGNORECASE,
)
_NOT_A_PLACE = re.compile(
    r"\b(?:date|held|on|le|du|of|meeting|réunion|session|séance|minutes|report|record|compte)\b",
    re.IGNORECASE,
)
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50}


@dataclass(frozen=True)
class MeetingHeader:
    body: str
    meeting_name: str
    title: str
    starts_on: date | None
    ends_on: date | None
    place: str | None


def month_number(name: str | None) -> int:
    return MONTH_NUMBERS.get((name or "").lower().rstrip("."), 0)


def meeting_header(paragraphs: list[str], source: str) -> MeetingHeader:
    """The meeting's body, name, title, dates and place from the report's first lines."""
    for index, text in enumerate(paragraphs):
        match = _DATE_LINE.fullmatch(text)
        if (
            match
            and month_number(match["end_m"])
            and (not match["m1"] or month_number(match["m1"]))
        ):
            return _sample_layout(paragraphs, index, match, source)
    return _any_layout(paragraphs[:FIRST_LINES], source)


def _sample_layout(
    paragraphs: list[str], index: int, match: re.Match[str], source: str
) -> MeetingHeader:
    """The sample's layout: the body and the meeting's name above a line that is only a date."""
    starts_on, ends_on = _dates(
        (
            match["y1"] or match["end_y"],
            match["m1"] or match["end_m"],
            match["d1"] or match["end_d"],
        ),
        (match["end_y"], match["end_m"], match["end_d"]),
        source,
    )
    above = paragraphs[:index]
    if above and (dashed := _BODY_DASH_MEETING.fullmatch(above[-1])):
        body, name = dashed[1].strip(), dashed[2].strip()
    elif len(above) >= 2:
        body, name = above[-2], above[-1]
    else:
        raise InvalidInput(f"no body and meeting name above the meeting date in {source}")
    kind = [text for text in paragraphs[index + 1 : index + 2] if "report" in text.lower()]
    title = " – ".join([body, name, *kind])
    return MeetingHeader(body, name, title, starts_on, ends_on, match["place"])


def _any_layout(first: list[str], source: str) -> MeetingHeader:
    """The title names the body (and maybe the meeting); a date in the first lines is the
    meeting's, unless it follows "next meeting"."""
    if not first:
        raise InvalidInput(f"no title naming the body found in {source}")
    found = next(
        (
            (i, m)
            for i, text in enumerate(first)
            for m in _ANY_DATE.finditer(text)
            if _is_meeting(m)
        ),
        None,
    )
    title, place, dates = first[0], None, (None, None)
    if found:
        index, match = found
        dates = _matched_dates(match, source)
        line = first[index]
        if index == 0:
            title = _without(line, match)
        else:
            place = _place(line, match)
    body, name = _body_and_name(title, source)
    return MeetingHeader(body, name, " – ".join(filter(None, [body, name])), *dates, place)


def _is_meeting(match: re.Match[str]) -> bool:
    before = match.string[: match.start()]
    return not _NEXT_MEETING_LABEL.search(before)


def _matched_dates(match: re.Match[str], source: str) -> tuple[date | None, date | None]:
    if match["d"]:
        end = (match["y"], match["m"], match["d"])
        return _dates((match["y"], match["firstm"] or match["m"], match["first"]), end, source)
    for n in "2345":
        if match[f"y{n}"]:
            day = (match[f"y{n}"], match[f"m{n}"], match[f"d{n}"])
            return _dates(day, day, source)
    return None, None


def _dates(
    first: tuple[str, str, str], last: tuple[str, str, str], source: str
) -> tuple[date, date]:
    try:
        starts_on, ends_on = _date(*first), _date(*last)
    except ValueError as exc:
        raise InvalidInput(f"the meeting date in {source} is not a valid date: {exc}") from None
    if starts_on > ends_on:
        raise InvalidInput(f"the meeting in {source} ends before it starts")
    return starts_on, ends_on


def _date(year: str, month: str, day: str) -> date:
    number = int(month) if month.isdigit() else month_number(month)
    return date(int(year), number, int(re.sub(r"\D", "", day)))


def _without(line: str, match: re.Match[str]) -> str:
    rest = line[: match.start()] + line[match.end() :]
    return re.sub(r"[\s,;:–—-]+$", "", re.sub(r"\s*,\s*(?=[–—-]|$)", "", rest)).strip(" ,;:–—-")


def _place(line: str, match: re.Match[str]) -> str | None:
    before = line[: match.start()].strip(" ,;:–—-")
    after = line[match.end() :].strip(" ,;:–—-")
    place = after or before
    return place if place and not _NOT_A_PLACE.search(place) else None


def _body_and_name(title: str, source: str) -> tuple[str, str]:
    title = _TITLE_PREFIX.sub("", title.strip())
    if not title:
        raise InvalidInput(f"no title naming the body found in {source}")
    body, _, name = (part.strip() for part in _split_once(title))
    return body, name


def _split_once(title: str) -> tuple[str, str, str]:
    parts = _TITLE_SPLIT.split(title, maxsplit=1)
    return (parts[0], "", parts[1]) if len(parts) == 2 else (title, "", "")


def next_meeting(texts: list[str], after: date | None) -> date | None:
    """The first later date given for the next meeting: "Next meeting: 5 December 2016" or
    "by next meeting (13 November 2023)"."""
    for text in texts:
        for labelled in _NEXT_MEETING_LABEL.finditer(text):
            match = _ANY_DATE.match(text, labelled.end())
            found = _safe(match)
            if found and (after is None or found > after):
                return found
        for match in _NEXT_MEETING.finditer(text):
            found = _safe_named(match)
            if found and (after is None or found > after):
                return found
    return None


def _safe(match: re.Match[str] | None) -> date | None:
    if match is None:
        return None
    try:
        return _matched_dates(match, "")[0]
    except InvalidInput:
        return None


def _safe_named(match: re.Match[str]) -> date | None:
    try:
        return _date(match["y"], match["m"], match["d"]) if month_number(match["m"]) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Section:
    number: int | None  # None: numbered by the order of sections
    title: str
    rank: int  # 0 "Objective N", 1 numbered, 2 another heading


def section(paragraph: Paragraph) -> Section | None:
    """The section a paragraph opens, if it is a heading."""
    text = paragraph.text
    if paragraph.emphasised and (objective := _OBJECTIVE.fullmatch(text)):
        return Section(int(objective[1]), objective[2], 0)
    short = len(text) <= 120 and not _CAPTION.match(text)
    if short and (numbered := _NUMBERED.fullmatch(text)) and _numbered_heading(paragraph):
        raw = numbered["item"] or numbered["number"] or numbered["roman"]
        return Section(_number(raw), numbered["title"].strip(), 1)
    if short and paragraph.heading:
        return Section(None, text.rstrip(" .:"), 2)
    return None


def _numbered_heading(paragraph: Paragraph) -> bool:
    """A numbered line is a heading when marked as one, or short and not a sentence."""
    return paragraph.heading or (len(paragraph.text) <= 80 and paragraph.text[-1] not in ".;,:")


def _number(raw: str) -> int:
    if raw.isdigit():
        return int(raw)
    values = [_ROMAN[char] for char in raw.upper()]
    return sum(-v if v < nxt else v for v, nxt in zip(values, [*values[1:], 0], strict=True))
