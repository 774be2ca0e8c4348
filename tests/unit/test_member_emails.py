"""Member addresses: the shortcut for plain ASCII addresses (one email_validator check per
domain) gives exactly what checking each address in full gives, refusals included."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accord.services.member_files import _checked_email
from statemachines.errors import InvalidInput

DOMAINS = [
    "example.org",
    "Example.ORG",
    "mail.city-of-bradford.gov.uk",
    "localhost",
    "x.local",
    "a.test",
    "xn--bcher-kva.example",
    "bücher.example",
    "-bad.org",
    "a..b.org",
    "org.",
    "1.2.3.4",
    "[127.0.0.1]",
    "ex_ample.org",
    "a" * 64 + ".org",
    ".".join(["abcdefghi"] * 26) + ".org",
    "",
]
LOCAL = st.text(
    alphabet=st.sampled_from(list("abcXYZ019._+-'!#&*/=?^`{|}~ @\"(),:;<>[\\]é\u00a0\u037e")),
    max_size=70,
)


def _in_full(text: str) -> str:
    if not text:
        raise InvalidInput("email is empty")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"invalid email '{text}': {exc}") from None
    return checked.normalized.lower()


def _outcome(check, text: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    try:
        return "ok", check(text)
    except InvalidInput as exc:
        return "refused", str(exc)


@settings(max_examples=400, deadline=None)
@given(local=LOCAL, domain=st.sampled_from(DOMAINS))
@example(local="Gemma.Pinyol", domain="Example.ORG")
@example(local="a" * 64, domain=".".join(["abcdefghi"] * 18) + ".org")
@example(local="a" * 65, domain="example.org")
@example(local="postmaster", domain="example.org")
@example(local="a.b", domain="xn--bcher-kva.example")
def test_the_shortcut_is_the_full_check(local: str, domain: str) -> None:
    text = f"{local}@{domain}"
    assert _outcome(_checked_email, text) == _outcome(_in_full, text)


@pytest.mark.parametrize("text", ["", "no-at-sign", "two@@example.org", "a@b@example.org"])
def test_malformed_addresses_are_refused_as_before(text: str) -> None:
    assert _outcome(_checked_email, text) == _outcome(_in_full, text)
    assert _outcome(_checked_email, text)[0] == "refused"


def test_a_domain_is_checked_once() -> None:
    from accord.services.member_files import _checked_domain

    _checked_domain.cache_clear()
    emails = [_checked_email(f"Member.{n}@Example.org") for n in range(100)]
    assert emails[7] == "member.7@example.org"
    assert _checked_domain.cache_info().misses == 1
