"""Signed reply links: bound to round, member and text hash; expiring; forged ones refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accord.services.links import BadLink, link_url, make_token, read_token

SECRET = "s" * 48
DEADLINE = datetime(2023, 12, 18, 18, 0, tzinfo=UTC)
GRACE = timedelta(hours=72)


def token(**kw: object) -> str:
    args = {
        "round_id": 3,
        "member_id": 7,
        "text_sha256": "a" * 64,
        "deadline": DEADLINE,
        "grace": GRACE,
    }
    return make_token(SECRET, **{**args, **kw})  # type: ignore[arg-type]


def test_a_genuine_token_gives_its_claims_until_deadline_plus_grace() -> None:
    claims = read_token(SECRET, token(), DEADLINE + GRACE - timedelta(seconds=1))
    assert (claims.round_id, claims.member_id, claims.text_sha256) == (3, 7, "a" * 64)
    assert claims.expires == DEADLINE + GRACE


def test_an_expired_token_is_refused() -> None:
    with pytest.raises(BadLink, match="expired"):
        read_token(SECRET, token(), DEADLINE + GRACE)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-3],
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: make_token(
            "other-secret",
            round_id=3,
            member_id=7,
            text_sha256="a" * 64,
            deadline=DEADLINE,
            grace=GRACE,
        ),
        lambda t: "x" * 100_000,
        lambda t: "",
        lambda t: t + "é",
        lambda t: "' OR 1=1 --",
    ],
    ids=["truncated", "altered", "other-key", "huge", "empty", "non-ascii", "sql"],
)
def test_forged_or_damaged_tokens_are_refused_alike(forge) -> None:
    with pytest.raises(BadLink, match="not valid"):
        read_token(SECRET, forge(token()), DEADLINE)


def test_another_members_claims_cannot_be_grafted() -> None:
    mine, theirs = token(member_id=7), token(member_id=8)
    _payload_mine, sig_mine = mine.rsplit(".", 1)
    payload_theirs, _sig = theirs.rsplit(".", 1)
    with pytest.raises(BadLink):
        read_token(SECRET, f"{payload_theirs}.{sig_mine}", DEADLINE)


def test_the_link_is_under_the_public_url() -> None:
    assert link_url("https://accord.example.org", "abc") == "https://accord.example.org/r/abc"
