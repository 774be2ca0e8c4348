"""Demo data for `accord up --demo`: the sample report, its Advisory Group as members at
example.org addresses (each the contact of their city's body, for action reminders; the group
publishes automatically once it endorses), and an awareness-day statement for International
Migrants Day.

Every step is safe to run again on the same ACCORD_HOME: the report is found, members are
updated by email, the statement is found by its slug. The round itself is started by the caller
(as a flow run, so it shows in the Prefect UI) unless the statement already has one.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from accord.reports.parse import Participant, parse_report
from accord.services.context import Context
from accord.services.csvfile import csv_text
from accord.services.groups import configure_group
from accord.services.members import import_members
from accord.services.reports import import_report
from accord.services.statements import draft_statement, slugify
from storage.bodies import bodies_of_people, set_contact_emails

GROUP = "Advisory Group"
SECTION = "Advisory Group members"
RULE = "majority"
DOMAIN = "example.org"
# The real meeting report accord was built from (package data: the demo needs no checkout).
SAMPLE_REPORT = Path(__file__).resolve().parents[1] / "samples" / "icc_advisory_group_2023-07.txt"
TITLE = "International Migrants Day 2026"
KIND = "awareness-day"
TEXT = """\
On International Migrants Day, 18 December 2026, the members of the Intercultural Cities \
Advisory Group recall that migrants are residents, neighbours and citizens of our cities.

Cities that plan for diversity are safer, fairer and more prosperous. We commit to keep building \
local policies in which everyone, whatever their origin, can take part in the life of the city \
and be heard in its decisions.

We invite every city of the network to mark the day with its residents.
"""
COUNTRY = {  # (language, time zone) of a participant's country
    "United Kingdom": ("en", "Europe/London"),
    "Switzerland": ("fr", "Europe/Zurich"),
    "Norway": ("en", "Europe/Oslo"),
    "Iceland": ("en", "Atlantic/Reykjavik"),
    "Spain": ("es", "Europe/Madrid"),
    "Australia": ("en", "Australia/Adelaide"),
}


@dataclass(frozen=True)
class Demo:
    statement_id: int
    group: str
    rule: str
    deadline: datetime
    members: list[str]
    has_round: bool


def load_demo(ctx: Context, report: Path = SAMPLE_REPORT) -> Demo:
    """Import the report, the members and the statement."""
    participants = [p for p in parse_report(report).participants if p.section == SECTION]
    import_report(ctx, report)
    members = _import_members(ctx, participants)
    configure_group(ctx, GROUP, auto_publish=True)
    _body_contacts(ctx, participants)
    statement_id, has_round = _statement(ctx)
    return Demo(
        statement_id=statement_id,
        group=GROUP,
        rule=RULE,
        deadline=_deadline(ctx),
        members=members,
        has_round=has_round,
    )


def email_for(name: str) -> str:
    """`Gemma Pinyol-Jiménez` → `gemma.pinyol-jimenez@example.org`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    local = ".".join(part for part in ascii_name.lower().replace("'", "").split() if part)
    return f"{local}@{DOMAIN}"


def _import_members(ctx: Context, participants: list[Participant]) -> list[str]:
    rows: list[list[str]] = [["name", "email", "organisation", "groups", "language", "timezone"]]
    for p in participants:
        language, zone = COUNTRY.get(p.country or "", ("en", ctx.settings.timezone))
        organisation = p.city or p.organisation or p.role or ""
        rows.append([p.name, email_for(p.name), organisation, GROUP, language, zone])
    path = ctx.settings.home / "demo" / "members.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(rows), encoding="utf-8")
    import_members(ctx, path)
    return [email_for(p.name) for p in participants]


def _body_contacts(ctx: Context, participants: list[Participant]) -> None:
    """Each member becomes a contact of the body the report ties them to (their city), so the
    action reminders have someone to write to."""
    names = {p.name: email_for(p.name) for p in participants}
    with ctx.uow() as uow:
        contacts: dict[int, set[str]] = {}
        for name, body_id in bodies_of_people(uow.connection, names):
            contacts.setdefault(body_id, set()).add(names[name])
        set_contact_emails(uow.connection, {b: sorted(emails) for b, emails in contacts.items()})
        uow.commit()


def _statement(ctx: Context) -> tuple[int, bool]:
    """The demo statement's id (drafted the first time) and whether it was circulated already."""
    with ctx.uow(readonly=True) as uow:
        found = next((s for s in uow.statements.list() if s.slug == slugify(TITLE)), None)
        if found is not None:
            return int(found.id), bool(uow.rounds.for_statement(found.id))
    drafted = draft_statement(ctx, title=TITLE, kind=KIND, body=TEXT)
    return drafted.id, False


def _deadline(ctx: Context) -> datetime:
    """A week from today, 18:00 secretariat time."""
    day = ctx.now().astimezone(ctx.settings.tz).date() + timedelta(days=7)
    return datetime.combine(day, time(18, 0), tzinfo=ctx.settings.tz)
