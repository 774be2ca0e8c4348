"""The demo's console login for `accord up --demo`: a secretariat account with a new random
password each run (printed once by `accord up`; nothing fixed that a public host would share)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from accord.services.context import Context
from accord.services.users import add_user, list_users, set_password

EMAIL = "secretariat@example.org"
NAME = "Demo Secretariat"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str


def demo_login(ctx: Context) -> DemoLogin:
    password = secrets.token_urlsafe(12)
    if any(user.email == EMAIL for user in list_users(ctx)):
        set_password(ctx, EMAIL, password)
    else:
        add_user(ctx, EMAIL, name=NAME, role="secretariat", password=password)
    return DemoLogin(EMAIL, password)
