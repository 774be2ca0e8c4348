"""`accord up --demo`'s console login: a secretariat account whose password is new each run."""

from __future__ import annotations

from accord.services.console_auth import log_in
from accord.services.context import Context
from accord.services.demo_account import EMAIL, demo_login
from accord.services.users import list_users


def test_each_run_gives_a_new_password_that_logs_in(ctx: Context) -> None:
    first = demo_login(ctx)
    second = demo_login(ctx)
    assert first.email == second.email == EMAIL and first.password != second.password
    assert [(u.email, u.role) for u in list_users(ctx)] == [(EMAIL, "secretariat")]
    assert log_in(ctx, EMAIL, second.password, "127.0.0.1").user.name == "Demo Secretariat"
