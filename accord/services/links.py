"""Members' own reply links: signed with itsdangerous, bound to (round, member, text hash),
expiring at the round's deadline plus a grace period.

The expiry travels inside the signed payload and is checked against accord's clock, so
ACCORD_NOW rehearsals and tests see the same expiry a member would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer

from statemachines.errors import AccordError

SALT = "accord.reply-link.v1"
MAX_TOKEN_LENGTH = 1024


class BadLink(AccordError):
    """A link that is forged, truncated, expired or for something that no longer stands."""


class ExpiredLink(BadLink):
    """A genuine link whose round ended (deadline plus grace) before it was used."""


@dataclass(frozen=True)
class LinkClaims:
    round_id: int
    member_id: int
    text_sha256: str
    expires: datetime


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def make_token(
    secret: str,
    *,
    round_id: int,
    member_id: int,
    text_sha256: str,
    deadline: datetime,
    grace: timedelta,
) -> str:
    expires = int((deadline + grace).timestamp())
    return str(_serializer(secret).dumps([round_id, member_id, text_sha256, expires]))


def read_token(secret: str, token: str, now: datetime) -> LinkClaims:
    """The claims of a genuine, unexpired token; BadLink otherwise (never says which part)."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise BadLink("this link is not valid")
    claims = _genuine(secret, token)
    if now >= claims.expires:
        raise ExpiredLink("this link has expired")
    return claims


@lru_cache(maxsize=4096)
def _genuine(secret: str, token: str) -> LinkClaims:
    """The claims a token carries, once its signature holds. Kept for the next use: a member's
    page and their answer read the same token, and what a token says never changes (only
    whether it has expired, checked each time). A refused token is not kept."""
    try:
        round_id, member_id, sha, expires = _serializer(secret).loads(token)
        return LinkClaims(
            int(round_id), int(member_id), str(sha), datetime.fromtimestamp(int(expires), UTC)
        )
    except (BadSignature, ValueError, TypeError):
        raise BadLink("this link is not valid") from None


def link_url(public_url: str, token: str) -> str:
    return f"{public_url}/r/{token}"
