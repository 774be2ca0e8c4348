"""Action reminders: when each stage is due, and the mail the contacts and the secretariat read."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from accord.services.reminders import reminder_context, stage_for

TODAY = date(2023, 10, 1)
REMINDER = {
    "action_id": 3,
    "text": "Draft the coordinators' mission <description> & share it",
    "objective": "1. ICC coordinators",
    "timeframe": "by mid-October 2023",
    "state": "in_progress",
    "due": "2023-10-15",
    "days": 14,
    "bodies": ["Bradford", "ICC Secretariat"],
    "body": "Bradford",
    "role": "lead",
    "stage": "14-days",
}
DIGEST = {
    "week": "2023-W39",
    "today": "2023-10-01",
    "open": 12,
    "states": {"proposed": 10, "in_progress": 2},
    "overdue": [{**REMINDER, "days": -3, "due": "2023-09-28"}],
    "overdue_total": 4,
    "due_soon": [REMINDER],
    "due_soon_total": 1,
    "unscheduled": 2,
}


@pytest.mark.parametrize(
    ("due", "stage"),
    [
        (date(2023, 10, 30), None),
        (date(2023, 10, 15), "14-days"),
        (date(2023, 10, 5), "14-days"),
        (date(2023, 10, 4), "3-days"),
        (TODAY, "3-days"),
        (date(2023, 9, 30), "overdue"),
    ],
)
def test_stages(due: date, stage: str | None) -> None:
    assert stage_for(due, TODAY) == stage


def render(purpose: str, data: dict, language: str = "en") -> object:
    from accord.mail.render import render as render_mail

    row = SimpleNamespace(purpose=purpose, data=data)
    return render_mail(purpose, language, reminder_context(row))


def test_a_reminder_says_what_is_due_when_and_for_whom() -> None:
    mail = render("action_reminder", REMINDER)
    assert mail.subject.startswith("Action due in 14 days for Bradford: Draft the coordinators")
    for part in (mail.text, mail.html):
        assert (
            "2023-10-15" in part and "by mid-October 2023" in part and "1. ICC coordinators" in part
        )
    assert "<description> & share" in mail.text
    assert "&lt;description&gt; &amp; share" in mail.html and "<description>" not in mail.html


def test_an_overdue_reminder_says_so() -> None:
    mail = render("action_reminder", {**REMINDER, "stage": "overdue", "days": -2})
    assert mail.subject.startswith("Overdue action for Bradford:")
    assert "was due on 2023-10-15 and is not finished yet" in mail.text


def test_the_digest_counts_and_lists() -> None:
    mail = render("action_digest", DIGEST)
    assert mail.subject == "Follow-up actions, week 2023-W39: 4 overdue, 1 due within 14 days"
    assert "#3 due 2023-09-28 (3 days ago)" in mail.text
    assert "and 3 more" in mail.text and "in progress:" in mail.text
    assert "&lt;description&gt;" in mail.html


def test_a_french_reminder_and_digest() -> None:
    mail = render("action_reminder", REMINDER, "fr")
    assert mail.subject.startswith("Action à rendre dans 14 jours pour Bradford : Draft the")
    assert (
        "Chères et chers collègues de Bradford" in mail.text and "(Bradford : pilote)" in mail.text
    )
    assert 'lang="fr"' in mail.html and "&lt;description&gt; &amp; share" in mail.html
    late = render("action_reminder", {**REMINDER, "stage": "overdue", "days": -2}, "fr-CA")
    assert late.subject.startswith("Action en retard pour Bradford :")
    digest = render("action_digest", DIGEST, "fr")
    assert (
        digest.subject
        == "Actions de suivi, semaine 2023-W39 : 4 en retard, 1 à rendre sous 14 jours"
    )
    assert "n° 3, échéance 2023-09-28 (il y a 3 jours)" in digest.text
    assert "et 3 autres" in digest.text and "en cours :" in digest.text
