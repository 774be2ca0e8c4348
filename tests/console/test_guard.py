"""Every console route is refused without a session, and every POST with a viewer's session
(a viewer sees everything and changes nothing): the server refuses, nothing changes. The routes
are read from the app itself, so a new route is crawled without editing this test."""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.routing import Mount

from accord.services.context import Context
from accord.web.app import create_app
from accord.web.console.security import OWN_ACCOUNT
from tests.console.helpers import VIEWER, Console, snapshot

PUBLIC_PAGES = {"/console/login", "/console/password/{token}"}


def console_routes(ctx: Context) -> list[tuple[str, str]]:
    """(method, path template) of every console route."""
    app = create_app(ctx.settings)
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/console")
    assert isinstance(mount.app, FastAPI)
    paths = mount.app.openapi()["paths"]  # every route, however its router was included
    found = [(m.upper(), f"/console{p}") for p, ops in paths.items() for m in ops]
    assert ("POST", "/console/logout") in found and ("GET", "/console/") in found
    return found


def filled(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", template)


def test_without_a_session_every_page_goes_to_login_and_every_post_is_refused(
    ctx: Context, console: Console
) -> None:
    before = snapshot(ctx)
    for method, template in console_routes(ctx):
        path = filled(template)
        if method == "GET":
            answer = console.http.get(path)
            if template in PUBLIC_PAGES:
                assert answer.status_code in (200, 404), path  # a made-up link: 404
            else:
                assert answer.status_code == 303, path
                assert answer.headers["location"] == "/console/login", path
        else:
            form = {"language": "fr", "email": VIEWER, "password": "x" * 12}
            answer = console.post(path, form, page="/console/login")
            refused = 404 if template == "/console/password/{token}" else 403
            if template == "/console/login":
                refused = 401  # the login itself answers: a wrong password
            assert answer.status_code == refused, (method, path, answer.status_code)
    assert snapshot(ctx) == before


def test_a_viewer_sees_every_page_and_every_post_is_refused(ctx: Context, console: Console) -> None:
    assert console.log_in(VIEWER).status_code == 303
    before = snapshot(ctx)
    posts = [t for m, t in console_routes(ctx) if m == "POST" and t not in OWN_ACCOUNT]
    guarded = [t for t in posts if t not in PUBLIC_PAGES and t != "/console/login"]
    assert "/console/rounds/{round_id}/close" in guarded
    for template in guarded:
        answer = console.post(filled(template), {"reason": "x", "note": "x"})
        assert answer.status_code == 403, (template, answer.status_code)
        assert "can view the console but not change anything" in answer.text
    for method, template in console_routes(ctx):
        if method == "GET" and template not in PUBLIC_PAGES and "{" not in template:
            assert console.http.get(template).status_code == 200, template
    assert snapshot(ctx) == before
    console.post("/console/language", {"language": "fr", "back": "/console/"})  # their own
    assert snapshot(ctx)["audit_log"] == before["audit_log"]


def test_console_pages_send_the_security_headers_and_serve_htmx_themselves(
    console: Console,
) -> None:
    for path in ("/console/login", "/console/static/htmx.min.js", "/console/static/console.css"):
        answer = console.http.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-content-type-options"] == "nosniff"
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "http" not in policy  # no third-party origin
    page = console.http.get("/console/login").text
    assert '<script src="/console/static/htmx.min.js"' in page
    assert "https://" not in page and "//cdn" not in page
