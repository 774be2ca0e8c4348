"""Bodies' contacts (who action reminders go to), as Core statements on a unit of work's
connection: which body each named person of a report belongs to, and a body's contact emails."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, select, update

from storage.tables import bodies, people


def bodies_of_people(connection: Connection, names: Iterable[str]) -> list[tuple[str, int]]:
    """(person's name, their body's id) for the named people a report ties to a body."""
    query = select(people.c.name, people.c.body_id).where(
        people.c.name.in_(list(names)), people.c.body_id.is_not(None)
    )
    return [(name, body_id) for name, body_id in connection.execute(query)]


def set_contact_emails(connection: Connection, contacts: Mapping[int, Sequence[str]]) -> None:
    """Each body's contact emails become exactly those given (by body id)."""
    for body_id, emails in contacts.items():
        connection.execute(
            update(bodies).where(bodies.c.id == body_id).values(contact_emails=list(emails))
        )
