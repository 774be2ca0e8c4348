"""A member's link token as the mail composer makes it (the context's secret key and grace)."""

from __future__ import annotations

from datetime import datetime, timedelta

from accord.services.context import Context
from accord.services.links import make_token


def member_token(
    ctx: Context,
    *,
    round_id: int,
    member_id: int,
    text_sha256: str,
    deadline: datetime,
    secret: str | None = None,
) -> str:
    return make_token(
        secret or ctx.settings.resolve_secret_key(),
        round_id=round_id,
        member_id=member_id,
        text_sha256=text_sha256,
        deadline=deadline,
        grace=timedelta(hours=ctx.settings.link_grace_hours),
    )
