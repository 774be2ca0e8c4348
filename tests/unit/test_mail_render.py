"""Mail rendering (every purpose, both languages) and MIME building, read back by the stdlib."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import UndefinedError

from accord.mail.message import build_message, make_message_id
from accord.mail.render import PURPOSES, Rendered, fingerprint, language_for, one_line, render

SHA = "3f2a9b1c" * 8
OLD_SHA = "0d4e7c55" * 8
BODY = (
    "On International Migrants Day, the network recalls that diversity is an advantage.\n\n"
    "Cities commit to equal access to services & rights for all residents.\n"
    "They welcome newcomers <without> distinction."
)
ASKING = ("invitation", "consultation", "reminder", "revision", "explain")
WITH_FULL_TEXT = ("invitation", "consultation", "reminder", "revision")
REPLY_WORDS = {
    "en": ("endorse", "decline", "abstain"),
    "fr": ("oui", "j'approuve", "non", "je refuse", "abstention"),
}
CONSULT_WORDS = {
    "en": ("support", "concerns", "abstain"),
    "fr": ("soutien", "réserves", "abstention"),
}


def context(**changes: Any) -> dict[str, Any]:
    """Every key any purpose uses; a test removes or changes what it needs."""
    values: dict[str, Any] = {
        "member": {"name": "Ana María Pérez", "email": "ana@example.org"},
        "statement": {
            "title": "International Migrants Day 2023",
            "kind": "awareness-day",
            "kind_meaning": "You add your name to a message that marks an international day.",
            "political": False,
            "body": BODY,
            "sha256": SHA,
            "version": 2,
        },
        "round": {
            "id": 7,
            "mode": "endorse",
            "rule": "majority",
            "rule_text": "more than half of the members endorse",
            "deadline_member": "2023-12-18 12:00 (America/Montreal, UTC-0500)",
            "deadline_secretariat": "2023-12-18 18:00 (Europe/Paris, UTC+0100)",
            "member_timezone": "America/Montreal",
            "secretariat_timezone": "Europe/Paris",
            "outcome": "endorsed",
            "close_reason": "deadline",
            "flagged_political": True,
        },
        "group": {"name": "Advisory Group"},
        "link": "http://127.0.0.1:8000/r/personal-token-ana",
        "reply_address": "secretariat+0123456789abcdef0123456789abcdef@example.org",
        "reminder_number": 2,
        "diff": "--- previous text\n+++ new text\n@@ -1 +1 @@\n-old words\n+new words",
        "previous_sha256": OLD_SHA,
        "decision": {
            "value": "decline",
            "comment": "The second paragraph takes a side.",
            "recorded_at": "2023-12-01 10:00 (Europe/Paris, UTC+0100)",
            "channel": "email",
            "sha256": SHA,
        },
        "tally": {"endorse": 3, "decline": 1, "abstain": 0, "pending": 2},
        "decisions": [
            {"name": "Bea", "email": "bea@example.org", "decision": "endorse", "comment": ""},
            {"name": "Carl", "email": "carl@example.org", "decision": "decline", "comment": "no"},
        ],
        "url": "http://127.0.0.1:8000/site/migrants-day-2023.html",
        "signatories": [{"name": "Bea", "organisation": "City of Bergen"}],
        "reason": "The date in the title was wrong.",
    }
    values.update(changes)
    return values


def consult_context() -> dict[str, Any]:
    values = context()
    values["round"] = {**values["round"], "mode": "consult", "outcome": "consulted"}
    return values


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_purpose_renders_text_and_inlined_html(purpose: str, language: str) -> None:
    mail = render(purpose, language, context())
    assert mail.subject and "\n" not in mail.subject and "\r" not in mail.subject
    assert "International Migrants Day 2023" in mail.subject
    assert mail.text.strip() and mail.html.strip()
    assert "<style" not in mail.html
    assert 'style="' in mail.html
    assert f'lang="{language}"' in mail.html
    assert "International Migrants Day 2023" in mail.text


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("purpose", ASKING)
def test_a_request_shows_what_a_member_needs_to_answer(purpose: str, language: str) -> None:
    values = context()
    mail = render(purpose, language, values)
    for part in (mail.text, mail.html):
        assert values["round"]["deadline_member"] in part
        assert values["round"]["deadline_secretariat"] in part
        assert "America/Montreal" in part and "Europe/Paris" in part
        assert SHA in part
        assert values["statement"]["kind_meaning"] in part
        assert values["reply_address"] in part
        words = CONSULT_WORDS if purpose == "consultation" else REPLY_WORDS
        for word in words[language]:
            assert word in part
    assert values["link"] in mail.text
    assert f'href="{values["link"]}"' in mail.html
    assert fingerprint(SHA) in mail.text


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("purpose", WITH_FULL_TEXT)
def test_a_request_carries_the_full_text(purpose: str, language: str) -> None:
    mail = render(purpose, language, context())
    assert BODY in mail.text
    assert "Cities commit to equal access to services &amp; rights for all residents." in mail.html
    assert "newcomers &lt;without&gt; distinction" in mail.html


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_consultation_says_nothing_is_being_signed(language: str) -> None:
    mail = render("consultation", language, consult_context())
    not_signing = "NOT being asked to sign" if language == "en" else "PAS demandé de signer"
    assert not_signing in mail.text
    assert re.search(r"not</strong> being asked to sign|pas</strong> demandé de signer", mail.html)
    for word in CONSULT_WORDS[language]:
        assert word in mail.text and word in mail.html


@pytest.mark.parametrize("purpose", ["reminder", "revision", "explain"])
def test_follow_ups_of_a_consultation_ask_for_support_or_concerns(purpose: str) -> None:
    mail = render(purpose, "en", consult_context())
    assert "support <comment>" in mail.text and "concerns <comment>" in mail.text
    assert "endorse             to add your name" not in mail.text
    assert "NOT being asked to sign" in mail.text or purpose == "explain"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_revision_shows_the_diff_and_asks_again(language: str) -> None:
    mail = render("revision", language, context())
    for part in (mail.text, mail.html):
        assert OLD_SHA in part
        assert "+new words" in part
    assert ("no longer valid" if language == "en" else "n'est plus valable") in mail.text


def test_a_reminder_says_which_reminder_it_is() -> None:
    assert "Reminder 2" in render("reminder", "en", context()).text
    assert "Rappel 2" in render("reminder", "fr", context()).text


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_receipt_is_a_copy_of_what_was_recorded(language: str) -> None:
    mail = render("receipt", language, context())
    decline = "decline" if language == "en" else "je refuse"
    for part in (mail.text, mail.html):
        assert decline in part
        assert "The second paragraph takes a side." in part
        assert "2023-12-01 10:00" in part
        assert SHA in part
    assert "http://127.0.0.1:8000/r/personal-token-ana" in mail.text


def test_the_result_lists_tally_answers_and_the_political_flag() -> None:
    mail = render("result", "en", context())
    assert "endorse   3" in mail.text and "no answer 2" in mail.text
    assert "Carl <carl@example.org>: decline: no" in mail.text
    assert "political" in mail.text and "political" in mail.html
    assert "Bea &lt;bea@example.org&gt;" in mail.html


def test_published_and_withdrawal_carry_their_facts() -> None:
    published = render("published", "fr", context())
    assert "City of Bergen" in published.text and context()["url"] in published.html
    withdrawal = render("withdrawal", "en", context())
    assert "The date in the title was wrong." in withdrawal.text


@pytest.mark.parametrize("purpose", PURPOSES)
def test_html_is_escaped_and_text_is_not(purpose: str) -> None:
    values = context()
    values["statement"] = {**values["statement"], "title": "<script>alert(1)</script> & co"}
    values["member"] = {"name": "<b>Mallory</b>", "email": "m@example.org"}
    mail = render(purpose, "en", values)
    assert "<script>" not in mail.html and "<b>Mallory" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in mail.html
    assert "<script>alert(1)</script> & co" in mail.text


def test_a_subject_is_one_line_whatever_the_title() -> None:
    values = context()
    values["statement"] = {**values["statement"], "title": "Day\r\nBcc: victim@example.org\x00\t!"}
    mail = render("invitation", "en", values)
    assert mail.subject == "Endorsement requested: Day Bcc: victim@example.org !"


@pytest.mark.parametrize(
    ("asked", "used"), [("fr", "fr"), ("fr-BE", "fr"), ("FR_ca", "fr"), ("de", "en"), ("", "en")]
)
def test_languages_fall_back_to_english(asked: str, used: str) -> None:
    assert language_for(asked) == used
    assert render("invitation", asked, context()) == render("invitation", used, context())


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    values = context()
    del values["link"]
    with pytest.raises(UndefinedError):
        render("invitation", "en", values)


def test_an_unknown_purpose_is_refused() -> None:
    with pytest.raises(ValueError, match="no mail templates"):
        render("newsletter", "en", context())


# --- building the message --------------------------------------------------------------------

DATE = datetime(2023, 12, 1, 9, 30, tzinfo=UTC)


def build(rendered: Rendered | None = None, **changes: Any) -> bytes:
    arguments: dict[str, Any] = {
        "sender": "ICC Secretariat <secretariat@example.org>",
        "to": "ana@example.org",
        "to_name": "Ana María Pérez",
        "reply_to": "secretariat+0123456789abcdef0123456789abcdef@example.org",
        "message_id": make_message_id("invitation:7:1:v2", "example.org"),
        "date": DATE,
    }
    arguments.update(changes)
    return build_message(rendered or render("invitation", "fr", context()), **arguments)


def parse(data: bytes) -> EmailMessage:
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(data))


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return cast(str, part.get_content()).replace("\r\n", "\n")


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("purpose", PURPOSES)
def test_the_stdlib_reads_back_exactly_what_was_rendered(purpose: str, language: str) -> None:
    rendered = render(purpose, language, context())
    message = parse(build(rendered))
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())
    assert body(message, "plain") == rendered.text
    assert body(message, "html") == rendered.html
    assert str(message["Subject"]) == rendered.subject
    assert not message.defects and not any(p.defects for p in message.iter_parts())


def test_headers_say_who_when_and_how_to_answer() -> None:
    message = parse(build())
    assert message["From"].addresses[0].addr_spec == "secretariat@example.org"
    assert message["From"].addresses[0].display_name == "ICC Secretariat"
    assert message["To"].addresses[0].display_name == "Ana María Pérez"
    assert message["Reply-To"].addresses[0].addr_spec.startswith("secretariat+0123")
    assert message["Date"].datetime == DATE
    assert message["Message-ID"] == make_message_id("invitation:7:1:v2", "example.org")
    assert message["MIME-Version"] == "1.0"
    assert "Auto-Submitted" not in message and "In-Reply-To" not in message


def test_a_reminder_is_auto_submitted_and_threaded() -> None:
    first = make_message_id("invitation:7:1:v2", "example.org")
    message = parse(
        build(
            render("reminder", "en", context()),
            message_id=make_message_id("reminder:7:1:1", "example.org"),
            in_reply_to=first,
            references=[first],
            auto_submitted="auto-generated",
            date=datetime(2023, 12, 15, 9, 0, tzinfo=timezone(timedelta(hours=1))),
        )
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["In-Reply-To"] == first and message["References"] == first


def test_lines_end_in_crlf_and_stay_short() -> None:
    values = context()
    values["statement"] = {**values["statement"], "body": "word " * 2000 + "\n" + "x" * 3000}
    data = build(render("invitation", "en", values))
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(line) for line in data.split(b"\r\n")) <= 78


HOSTILE_NAMES = [
    "Bob\r\nBcc: victim@example.org",
    'Evil "Boss" <boss@example.org>, other@example.org',
    "=?utf-8?q?Secr=C3=A9tariat?=",
    "Zoë " * 40,
    "back\\slash; (comment) [x]",
    "line\u2028separator\x85next\x00nul",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_name_stays_a_display_name(name: str) -> None:
    rendered = Rendered(subject=name, text="t", html="<p>h</p>")
    message = parse(build(rendered, to_name=name))
    (to,) = message["To"].addresses
    assert to.addr_spec == "ana@example.org"
    assert to.display_name == one_line(name)
    assert str(message["Subject"]) == one_line(name)
    assert "Bcc" not in message
    assert sorted(message.keys()) == sorted(
        ["Date", "From", "To", "Reply-To", "Subject", "Message-ID", "MIME-Version", "Content-Type"]
    )


@settings(max_examples=100, deadline=None)
@given(name=st.text(max_size=120), subject=st.text(max_size=300))
def test_any_name_or_subject_reads_back_as_written(name: str, subject: str) -> None:
    message = parse(build(Rendered(subject=subject, text="t", html="h"), to_name=name))
    (to,) = message["To"].addresses
    assert to.addr_spec == "ana@example.org"
    assert to.display_name == one_line(name)
    assert str(message["Subject"]) == one_line(subject)
    assert len(message.keys()) == 8


@pytest.mark.parametrize(
    "address",
    ["ana@example.org\r\nBcc: victim@example.org", "a@example.org, b@example.org", "<a@b.c>", ""],
)
def test_a_bad_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="not a plain ASCII mail address"):
        build(to=address)
    with pytest.raises(ValueError, match="not a plain ASCII mail address"):
        build(reply_to=address or "x")


def test_an_extra_header_stays_on_one_line() -> None:
    message = parse(build(extra_headers={"X-Accord-Round": "7\r\nBcc: victim@example.org"}))
    assert message["X-Accord-Round"] == "7 Bcc: victim@example.org"
    assert "Bcc" not in message


@pytest.mark.parametrize("name", ["To", "content-type", "Bcc: x", "X Bad", ""])
def test_an_extra_header_cannot_replace_ours_or_be_malformed(name: str) -> None:
    with pytest.raises(ValueError, match="extra header"):
        build(extra_headers={name: "x"})


@pytest.mark.parametrize(
    ("sender", "name"),
    [
        ("secretariat@example.org", ""),
        ("Secrétariat du réseau ICC <secretariat@example.org>", "Secrétariat du réseau ICC"),
    ],
)
def test_the_sender_may_have_a_name_in_any_language(sender: str, name: str) -> None:
    (address,) = parse(build(sender=sender))["From"].addresses
    assert (address.display_name, address.addr_spec) == (name, "secretariat@example.org")


def test_a_date_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        build(date=datetime(2023, 12, 1, 9, 30))


def test_message_ids_are_stable_and_distinct() -> None:
    first = make_message_id("invitation:7:1:v2", "example.org")
    assert first == make_message_id("invitation:7:1:v2", "example.org")
    assert first != make_message_id("invitation:7:2:v2", "example.org")
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.org>", first)
    with pytest.raises(ValueError):
        make_message_id("k", "bad domain>\r\nBcc: x")
