"""Action reminders and the digest in the language of their address: a member's (or a console
user's) with that address, else English."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest
from sqlalchemy import select, update

from accord.config import load_settings
from accord.services.composing import Composer
from accord.services.context import Context
from accord.services.members import import_members
from accord.services.reminders import remind_actions
from accord.services.reports import import_report
from storage import tables as t
from tests.conftest import SAMPLE_REPORT

FRENCH = "contact@bradford.example.org"
UNKNOWN = "office@bradford.example.org"


def subjects(ctx: Context) -> dict[tuple[str, str], str]:
    """(purpose, address) -> the subject of the mail composed for it."""
    with ctx.uow(readonly=True) as uow:
        rows = list(uow.session.execute(select(t.outbox).order_by(t.outbox.c.id)))
        messages, unwritable = Composer(ctx, uow).compose_all(rows)
    assert unwritable == []
    found = {}
    for row, message in zip(rows, messages, strict=True):
        parsed = email.message_from_bytes(message.data, policy=policy.default)
        found[(row.purpose, row.to_addr)] = str(parsed["subject"])
    return found


def test_a_french_contact_and_secretariat_get_french_mail(
    accord_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACCORD_MAIL_FROM", "secretariat@example.org")
    ctx = Context(load_settings())
    import_report(ctx, SAMPLE_REPORT)
    members = tmp_path / "members.csv"
    members.write_text(
        f"name,email,language\nAna,{FRENCH},fr\nSecrétariat,secretariat@example.org,fr-FR\n",
        encoding="utf-8",
    )
    import_members(ctx, members)
    with ctx.uow() as uow:
        uow.session.execute(
            update(t.bodies)
            .where(t.bodies.c.name == "Bradford")
            .values(contact_emails=[FRENCH, UNKNOWN])
        )
        uow.commit()
    assert remind_actions(ctx).action_reminders > 0
    found = subjects(ctx)
    ctx.db.dispose()
    french = [s for (purpose, to), s in found.items() if to == FRENCH]
    english = [s for (purpose, to), s in found.items() if to == UNKNOWN]
    assert french and all(s.startswith(("Action à rendre", "Action en retard")) for s in french)
    assert english and all(s.startswith(("Action due", "Overdue action")) for s in english)
    assert found[("action_digest", "secretariat@example.org")].startswith(
        "Actions de suivi, semaine 2023-W39"
    )
