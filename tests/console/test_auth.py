"""Logging in to the console over real HTTP: the session cookie's flags, CSRF, logout, lockout
after 10 failures, failed logins logged without the password, session lifetimes, languages."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from accord.config import load_settings
from accord.services.console_auth import log_in, session_user
from accord.services.context import Context
from tests.console.helpers import PASSWORD, SECRETARIAT, VIEWER, Console, make_users
from tests.servers import serving


def test_a_page_needs_a_login_and_a_login_opens_the_dashboard(console: Console) -> None:
    assert console.http.get("/console/").headers["location"] == "/console/login"
    done = console.log_in(SECRETARIAT)
    assert done.status_code == 303 and done.headers["location"] == "/console/"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith("accord_session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/console", "samesite=lax"} <= flags
    assert "secure" not in flags  # ACCORD_PUBLIC_URL is http here
    page = console.http.get("/console/")
    assert page.status_code == 200 and "Sam Secretariat" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_logout_ends_the_session_even_for_a_kept_cookie(console: Console) -> None:
    console.log_in(SECRETARIAT)
    kept = dict(console.http.cookies)
    assert console.post("/console/logout").headers["location"] == "/console/login"
    assert console.http.get("/console/").status_code == 303
    console.http.cookies.update(kept)  # the old cookie, replayed
    assert console.http.get("/console/").status_code == 303


def test_a_post_without_its_csrf_token_is_refused(console: Console) -> None:
    console.token()  # the CSRF cookie is set, the field is missing or forged
    bare = {"email": SECRETARIAT, "password": PASSWORD}
    assert console.http.post("/console/login", data=bare).status_code == 403
    forged = {**bare, "csrf_token": "x.y"}
    assert console.http.post("/console/login", data=forged).status_code == 403
    other = Console.at(console.base)  # another browser's token does not match this cookie
    stolen = {**bare, "csrf_token": other.token()}
    assert console.http.post("/console/login", data=stolen).status_code == 403
    other.http.close()


def test_wrong_password_shows_the_error_next_to_the_field(console: Console) -> None:
    done = console.log_in(SECRETARIAT, "not the password")
    assert done.status_code == 401
    assert 'aria-describedby="password-error"' in done.text
    assert 'id="password-error">Wrong email or password.' in done.text
    empty = console.log_in("", "")
    assert empty.status_code == 400 and 'id="email-error">Enter your email address.' in empty.text


def test_ten_failures_lock_the_account_and_are_logged_without_the_password(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "accord.console")
    for attempt in range(10):
        assert console.log_in(SECRETARIAT, f"guess number {attempt}").status_code == 401
    locked = console.log_in(SECRETARIAT)  # the right password, too late
    assert locked.status_code == 429 and "try again in 15 minutes" in locked.text
    failures = [r.getMessage() for r in caplog.records if "failed login" in r.getMessage()]
    assert len(failures) == 10 and all(SECRETARIAT in line for line in failures)
    assert not any("guess number" in r.getMessage() for r in caplog.records)
    assert console.log_in(VIEWER).status_code == 429  # the same address is locked too


def test_the_lock_lifts_after_15_minutes(ctx: Context) -> None:
    make_users(ctx)
    for _ in range(10):
        with pytest.raises(Exception, match="wrong email or password"):
            log_in(ctx, SECRETARIAT, "wrong", "10.0.0.1")
    later = Context(load_settings(now=ctx.now() + timedelta(minutes=15)))
    assert log_in(later, SECRETARIAT, PASSWORD, "10.0.0.1").user.email == SECRETARIAT
    later.db.dispose()


def test_a_session_ends_after_12_hours_or_2_idle_hours(ctx: Context) -> None:
    make_users(ctx)
    token = log_in(ctx, SECRETARIAT, PASSWORD, "10.0.0.1").token

    def at(hours: float) -> Context:
        return Context(load_settings(now=ctx.now() + timedelta(hours=hours)), _db=ctx.db)

    for hours in (1.9, 3.8, 5.7, 7.6, 9.5, 11.4):  # active every 1.9 h: kept
        assert session_user(at(hours), token) is not None
    assert session_user(at(12), token) is None  # 12 h after login, however active
    idle = log_in(ctx, SECRETARIAT, PASSWORD, "10.0.0.1").token
    assert session_user(at(2), idle) is None


def test_the_cookie_is_secure_when_the_public_url_is_https(ctx: Context) -> None:
    make_users(ctx)
    settings = ctx.settings.model_copy(update={"public_url": "https://accord.example.org"})
    with serving(settings) as base:
        client = Console.at(base)
        done = client.log_in(SECRETARIAT)
        cookies = done.headers.get_list("set-cookie")
        assert all("; Secure" in c for c in cookies), cookies
        client.http.close()


def test_french_from_the_browser_then_the_users_own_choice(base_url: str) -> None:
    french = Console.at(base_url, **{"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"})
    assert "Connexion à la console" in french.http.get("/console/login").text
    english = Console.at(base_url, **{"Accept-Language": "de, en;q=0.5"})
    english.log_in(SECRETARIAT)
    assert "Open rounds" in english.http.get("/console/").text
    english.post("/console/language", {"language": "fr", "back": "/console/"})
    page = english.http.get("/console/")
    assert '<html lang="fr">' in page.text and "Consultations ouvertes" in page.text
    french.http.close()
    english.http.close()
