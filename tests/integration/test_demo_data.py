"""`accord up --demo`'s data (without the round): members become their city's body contacts, and
loading again changes nothing."""

from __future__ import annotations

from accord.services.context import Context
from accord.services.demo import load_demo


def test_the_demo_data_loads_twice_with_each_member_a_contact_of_their_body(ctx: Context) -> None:
    first = load_demo(ctx)
    again = load_demo(ctx)
    assert again == first and not first.has_round and first.members
    with ctx.uow(readonly=True) as uow:
        contacts = {e for body in uow.meetings.bodies() for e in body.contact_emails or []}
    assert contacts and contacts <= set(first.members)
