"""Reading one reply mail: keys, senders, robots, forwards, quoting styles, decisions, DSNs, and
input that tries to break the reader. Pure: no database, no server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.inbound.dsn import read_report
from accord.inbound.parse import (
    AUTO_REPLY,
    BOUNCE,
    FORWARD,
    REPLY,
    REPORT,
    Inbound,
    html_to_text,
    latest_reply,
    read_decision,
    read_message,
)

CORPUS = Path(__file__).parents[1] / "fixtures" / "replies"
PATTERN = "endorse+{key}@example.org"
KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
INVITATION = "<5d41402abc4b2a76b9719d911017c592@example.org>"


def corpus(name: str, **values: str) -> bytes:
    text = (CORPUS / name).read_text(encoding="utf-8")
    fill = {"key": KEY, "member": "vesna.haracic@example.org", "invitation": INVITATION} | values
    for placeholder, value in fill.items():
        text = text.replace(f"{{{placeholder}}}", value)
    return text.replace("\n", "\r\n").encode("utf-8")


def message(
    *headers: str, body: str = "Yes\r\n", content_type: str = "text/plain; charset=utf-8"
) -> bytes:
    lines = ["From: Barry <barry.cusack@example.org>", f"To: <endorse+{KEY}@example.org>"]
    lines += ["Message-ID: <m1@example.org>", "Subject: Re: Endorsement requested", *headers]
    lines += ["MIME-Version: 1.0", f"Content-Type: {content_type}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode("utf-8")


def read(raw: bytes) -> Inbound:
    return read_message(raw, reply_pattern=PATTERN)


@pytest.mark.parametrize(
    ("name", "kind", "decision", "comment"),
    [
        ("gmail_top_posting.eml", REPLY, "endorse", "I endorse.\n\nBarry"),
        ("outlook_original_message.eml", REPLY, "decline", "We cannot sign a statement"),
        ("french_je_refuse.eml", REPLY, "decline", "parce que le texte ne dit rien du rôle"),
        ("french_oui.eml", REPLY, "endorse", "avec plaisir."),
        ("apple_mail.eml", REPLY, "abstain", "I was not at the meeting where this was"),
        ("german_am_schrieb.eml", REPLY, "endorse", "Wir unterstützen die Erklärung gerne."),
        ("html_only_outlook.eml", REPLY, "endorse", "San Sebastián is happy to sign."),
        ("thunderbird_bottom_posting.eml", REPLY, "decline", "political: Salisbury council"),
        ("reply_to_sender.eml", REPLY, "abstain", None),
        ("duplicate.eml", REPLY, "endorse", None),
        ("spoofed_sender.eml", REPLY, "decline", None),
        ("unreadable.eml", REPLY, None, None),
        ("forward.eml", FORWARD, None, None),
        ("out_of_office_en.eml", AUTO_REPLY, None, None),
        ("out_of_office_fr.eml", AUTO_REPLY, None, None),
        ("dsn_bounce.eml", REPORT, None, None),
    ],
)
def test_the_corpus_reads_as_written(name, kind, decision, comment) -> None:
    inbound = read(corpus(name))
    assert (inbound.kind, inbound.decision) == (kind, decision)
    if comment:
        assert inbound.comment is not None and inbound.comment.startswith(comment)
    else:
        assert inbound.comment is None
    for quoted in ("Dear ", "secretariat asks", "wrote:", "a écrit", "schrieb", "Original"):
        assert quoted not in (inbound.comment or "")


def test_a_reply_says_who_sent_it_which_key_and_what_it_answers() -> None:
    inbound = read(corpus("gmail_top_posting.eml"))
    assert inbound.sender == "barry.cusack@example.org"
    assert inbound.reply_key == KEY
    assert (
        inbound.message_key
        == inbound.message_id
        == "<CAKx7Gm0a2hV8yq1sPn0W6c0Lq3X9mQ2f@mail.gmail.com>"
    )
    assert inbound.references == (INVITATION,)
    assert read(corpus("french_oui.eml")).sender == "gregory.jaquet@example.org"  # case folded
    assert read(corpus("reply_to_sender.eml")).reply_key is None  # only In-Reply-To


@pytest.mark.parametrize("field", ["To", "Delivered-To", "X-Original-To"])
def test_the_key_is_found_in_to_delivered_to_or_x_original_to(field) -> None:
    raw = (
        f"From: barry.cusack@example.org\r\n{field}: Secretariat "
        f"<ENDORSE+{KEY.upper()}@Example.ORG>\r\n\r\nYes\r\n"
    ).encode()
    assert read(raw).reply_key == KEY


@pytest.mark.parametrize(
    "address",
    [
        f"endorse+{KEY[:-1]}@example.org",  # 124 bits
        f"endorse+{KEY}0@example.org",
        f"endorse+{KEY}@example.org.evil.example",
        f"other+{KEY}@example.org",
        f"xendorse+{KEY}@example.org",
        "secretariat@example.org",
    ],
)
def test_anything_but_the_reply_address_carries_no_key(address) -> None:
    assert read(f"From: a@b.example\r\nTo: {address}\r\n\r\nYes\r\n".encode()).reply_key is None


def test_a_reply_pattern_without_a_key_finds_none() -> None:
    raw = message()
    assert read_message(raw, reply_pattern="endorse@example.org").reply_key is None


@pytest.mark.parametrize(
    ("from_fields", "sender"),
    [
        (["Barry <Barry.Cusack@Example.org>"], "barry.cusack@example.org"),
        (['"barry.cusack@example.org" <attacker@evil.example>'], "attacker@evil.example"),
        (["barry.cusack@example.org, attacker@evil.example"], None),
        (["barry.cusack@example.org", "attacker@evil.example"], None),
        (["undisclosed-recipients:;"], None),
        ([], None),
    ],
)
def test_the_sender_is_the_one_address_of_one_from_field(from_fields, sender) -> None:
    headers = "".join(f"From: {value}\r\n" for value in from_fields)
    assert read(f"{headers}To: x@example.org\r\n\r\nYes\r\n".encode()).sender == sender


def test_without_a_message_id_the_key_is_the_hash_of_the_bytes() -> None:
    raw = b"From: barry.cusack@example.org\r\nTo: x@example.org\r\n\r\nYes\r\n"
    assert read(raw).message_key == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert read(raw).message_id is None


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated; type=vacation",
        "X-Autoreply: yes",
        "X-Autorespond: Out of office",
        "Precedence: bulk",
        "Precedence: junk",
        "Precedence: list",
        "Precedence: auto_reply",
        "Return-Path: <>",
    ],
)
def test_automatic_replies_are_known_by_their_headers(header) -> None:
    assert read(message(header)).kind == AUTO_REPLY


def test_auto_submitted_no_is_a_person() -> None:
    assert read(message("Auto-Submitted: no")).decision == "endorse"


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Endorsement requested",
        "Out of Office: Endorsement requested",
        "AUTO: Barry Cusack is out of the office (returning 09/10/2023)",
        "Réponse automatique : Demande d'approbation",
        "=?UTF-8?Q?R=C3=A9ponse_automatique_=3A_Demande?=",
        "Absent du bureau",
        "Abwesenheitsnotiz: Endorsement requested",
        "Automatische Antwort: Endorsement requested",
        "Respuesta automática: Endorsement requested",
        "Fuera de la oficina: Endorsement requested",
    ],
)
def test_out_of_office_subjects_in_four_languages(subject) -> None:
    assert (
        read(
            message(body="Yes, I am away.\r\n").replace(
                b"Subject: Re: Endorsement requested", f"Subject: {subject}".encode()
            )
        ).kind
        == AUTO_REPLY
    )


@pytest.mark.parametrize(
    ("sender", "subject"),
    [
        ("MAILER-DAEMON@mx.example.org", "Re: hello"),
        ("postmaster@example.net", "Re: hello"),
        ("someone@example.net", "Undeliverable: Endorsement requested"),
        ("someone@example.net", "Delivery Status Notification (Failure)"),
    ],
)
def test_bounces_without_a_report_are_known_too(sender, subject) -> None:
    raw = f"From: {sender}\r\nTo: endorse+{KEY}@example.org\r\nSubject: {subject}\r\n\r\nYes\r\n"
    assert read(raw.encode()).kind == BOUNCE


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Fwd: Endorsement requested", "Yes\r\n"),
        ("FW: Endorsement requested", "Yes\r\n"),
        ("TR: Demande d'approbation", "Oui\r\n"),
        ("WG: Endorsement requested", "Yes\r\n"),
        ("RV: Endorsement requested", "Yes\r\n"),
        ("Re: Endorsement requested", "Yes\r\n\r\n-------- Forwarded Message --------\r\nx\r\n"),
        ("Re: x", "Oui\r\n\r\n---------- Message transféré ---------\r\nDe : x\r\n"),
        ("Re: x", "Ja\r\n\r\n---------- Weitergeleitete Nachricht ---------\r\n"),
        ("Re: x", "Sí\r\n\r\n---------- Mensaje reenviado ---------\r\n"),
        ("Re: x", "Yes\r\n\r\nBegin forwarded message:\r\n\r\nFrom: x\r\n"),
    ],
)
def test_forwards_are_never_decisions(subject, body) -> None:
    raw = message(body=body).replace(
        b"Subject: Re: Endorsement requested", f"Subject: {subject}".encode()
    )
    assert read(raw).kind == FORWARD


def test_a_quoted_forward_marker_does_not_make_a_forward() -> None:
    body = "Yes\r\n\r\nOn Mon, Barry wrote:\r\n> ---------- Forwarded message ---------\r\n"
    assert read(message(body=body)).decision == "endorse"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("endorse", ("endorse", None)),
        ("Endorse.", ("endorse", None)),
        ("I endorse", ("endorse", None)),
        ("We approve the text", ("endorse", "the text")),
        ("yes!", ("endorse", None)),
        ("Agree", ("endorse", None)),
        ("OUI", ("endorse", None)),
        ("J'approuve", ("endorse", None)),
        ("J’approuve ce texte", ("endorse", "ce texte")),
        ("approuve", ("endorse", None)),
        ("D'accord, bien sûr", ("endorse", "bien sûr")),
        ("decline", ("decline", None)),
        ("Decline political", ("decline", "political")),
        ("decline: political\nwe never sign", ("decline", "political\nwe never sign")),
        ("No", ("decline", None)),
        ("Non merci", ("decline", "merci")),
        ("refuse", ("decline", None)),
        ("Je refuse parce que non", ("decline", "parce que non")),
        ("abstain", ("abstain", None)),
        ("Abstention", ("abstain", None)),
        ("\n\n  Yes  \nsee you", ("endorse", "see you")),
        ("Dear Anna,\n\nI endorse.", ("endorse", None)),
        ("Hi Anna, yes", ("endorse", None)),
        ("Bonjour,\noui", ("endorse", None)),
        ("Support, a good idea", ("support", "a good idea")),
        ("Concerns: too early", ("concerns", "too early")),
        ("Yes, we support it", ("endorse", "we support it")),
        ("No problem, I endorse", None),
        ("Yes, no", None),
        ("I do not agree", None),
        ("Je ne suis pas d'accord", None),
        ("Pas d'accord", None),
        ("Maybe", None),
        ("yesterday I endorsed it", None),
        ("Ja", None),
        ("Sí", None),
        ("", None),
        ("Dear Anna,", None),
    ],
)
def test_the_decision_is_read_from_the_first_line(text, expected) -> None:
    assert read_decision(text) == expected


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        ("Yes\n\nOn Mon, 2 Oct 2023 at 10:15, X <x@example.org> wrote:\n> Dear\n", "Yes"),
        ("On Mon, 2 Oct 2023 at 10:15, X wrote:\n> Dear\n> more\n\nYes\nBarry\n", "Yes\nBarry"),
        ("Yes\n\n-----Original Message-----\nFrom: X\nSent: Monday\nTo: Y\n\nDear\n", "Yes"),
        ("Yes\n\n________________________________\nFrom: X\nSent: Monday\nTo: Y\n", "Yes"),
        ("Oui\n\nLe lun. 2 oct. 2023 à 10:15, X <x@example.org> a écrit :\n> Madame\n", "Oui"),
        ("Ja\n\nAm Mo., 2. Okt. 2023 um 10:15 Uhr schrieb X <x@example.org>:\n> Sehr\n", "Ja"),
        ("Sí\n\nEl lun, 2 oct 2023 a las 10:15, X (<x@example.org>) escribió:\n> Hola\n", "Sí"),
        ("El lun, 2 oct 2023 a las 10:15, X escribió:\n> Hola\n\nabstain\n", "abstain"),
        ("Agree\n\nSent from my iPhone\n\n> On 2 Oct 2023, at 10:15, X wrote:\n", "Agree"),
        (
            "Decline\n- political\n- timing\n\nBest regards,\nGemma\n",
            "Decline\n- political\n- timing",
        ),
        ("Yes\n-- \nBarry Cusack\nCity of Bradford\n", "Yes"),
        ("Yes\u200b\r\nthanks\x00 all\x07", "Yes\nthanks all"),
    ],
)
def test_quoted_text_signatures_and_attributions_are_trimmed(body, reply) -> None:
    assert latest_reply(body) == reply


def test_html_quotes_become_quoted_lines_and_scripts_go() -> None:
    html = (
        "<html><head><style>p {color: red}</style><title>t</title></head><body>"
        "<div dir=ltr>Decline<br>not &amp; never</div><script>alert(1)</script>"
        '<div class="gmail_quote"><div class="gmail_attr">On Mon, X wrote:</div>'
        "<blockquote>Dear <b>Barry</b><p>text</p></blockquote></div>"
        "<blockquote type=cite>old</blockquote><p>After the quote</p></body></html>"
    )
    assert html_to_text(html).splitlines() == [
        "Decline",
        "not & never",
        "",
        "> On Mon, X wrote:",
        "",
        "> Dear Barry",
        "> text",
        "",
        "> old",
        "",
        "After the quote",
    ]


def test_html_only_mail_is_read_from_its_html_and_a_text_part_is_preferred() -> None:
    html_only = message(
        body="<p>Abstain</p><blockquote>Endorse</blockquote>", content_type="text/html"
    )
    assert read(html_only).decision == "abstain"
    both = message(
        content_type='multipart/alternative; boundary="b"',
        body=(
            "--b\r\nContent-Type: text/plain\r\n\r\nDecline\r\n"
            "--b\r\nContent-Type: text/html\r\n\r\n<p>Endorse</p>\r\n--b--\r\n"
        ),
    )
    assert read(both).decision == "decline"


def test_a_delivery_report_names_the_bounced_message_and_how_hard() -> None:
    inbound = read(corpus("dsn_bounce.eml"))
    assert inbound.report is not None
    assert inbound.report.original_message_id == INVITATION
    (status,) = inbound.report.recipients
    assert (status.recipient, status.action, status.status, status.hard) == (
        "vesna.haracic@example.org", "failed", "5.1.1", True,
    )  # fmt: skip
    assert "User unknown in virtual mailbox table" in status.diagnostic


def test_a_delayed_delivery_is_not_a_hard_bounce_and_a_returned_message_counts() -> None:
    raw = (
        "From: MAILER-DAEMON@mx.example.org\r\nTo: secretariat@example.org\r\n"
        "Subject: Delayed Mail (still being retried)\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="r"\r\n\r\n'
        "--r\r\nContent-Type: text/plain\r\n\r\nStill trying.\r\n"
        "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; <Barry.Cusack@example.org>\r\nAction: delayed\r\n"
        "Status: 4.4.1\r\n\r\n"
        "--r\r\nContent-Type: message/rfc822\r\n\r\nFrom: secretariat@example.org\r\n"
        f"Message-ID: {INVITATION}\r\n\r\nDear Barry\r\n--r--\r\n"
    ).encode()
    report = read(raw).report
    assert report is not None and report.original_message_id == INVITATION
    assert [(s.recipient, s.hard) for s in report.recipients] == [
        ("barry.cusack@example.org", False)
    ]


def test_a_report_without_its_parts_reports_nothing() -> None:
    from email import message_from_bytes, policy

    raw = (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x--\r\n"
    )
    report = read_report(message_from_bytes(raw, policy=policy.default))
    assert (report.recipients, report.original_message_id) == ((), None)


HOSTILE = [
    b"",
    b"\x00\xff\xfe" * 100,
    b"From: \r\nTo: \r\n\r\n",
    b"Content-Type: text/plain; charset=x-no-such-charset\r\nFrom: a@b.c\r\n\r\nYes\xe9\r\n",
    b"Content-Transfer-Encoding: base64\r\nFrom: a@b.c\r\n\r\n!!!not base64!!!\r\n",
    b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n",
    b"Content-Type: multipart/alternative\r\n\r\nno boundary at all\r\n",
    b"Subject: =?utf-8?b?////?= =?x?q?y?=\r\nFrom: =?utf-8?q?=FF?= <a@b.c>\r\n\r\nYes\r\n",
    b"From: \xff\xfe@\xff.example\r\nTo: endorse+" + KEY.encode() + b"@example.org\r\n\r\nYes\r\n",
    b"Message-ID: <" + b"x" * 5000 + b"@example.org>\r\n\r\nYes\r\n",
    b"Content-Type: text/html\r\n\r\n" + b"<div>" * 20000 + b"</blockquote>" * 20000,
    b"Content-Type: multipart/mixed; boundary=a\r\n\r\n"
    + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 200,
    b"Subject: " + b"A" * 100_000 + b"\r\n\r\nYes\r\n",
    b"From: a@b.c\r\n\r\n" + b"> " * 100_000,
]


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_mail_is_read_without_raising(raw) -> None:
    inbound = read(raw)
    assert inbound.message_key
    assert len(inbound.message_key) <= 300
    assert "\x00" not in (inbound.comment or "")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_read_without_raising(raw) -> None:
    assert isinstance(read(raw), Inbound)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_text_body_reads_without_raising(body) -> None:
    inbound = read(message(body=body))
    assert inbound.decision in (None, "endorse", "decline", "abstain", "support", "concerns")
