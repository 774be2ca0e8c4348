"""The console's pages: templates/console rendered in the request's language.

The words are gettext messages (Jinja's i18n extension); the French catalogue is
`accord/web/console/locale/fr/LC_MESSAGES/console.po`, compiled in memory when the console is
built (no .mo file to keep in step; docs/console.md tells how to extract and update it).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from accord.services.console_auth import ConsoleUser
from accord.web.console.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    LANGUAGES,
    PREFIX,
    keys,
    language,
)
from statemachines.errors import Message

LOCALE = Path(__file__).parent / "locale"
DOMAIN = "console"


def translations(lang: str) -> NullTranslations:
    """The catalogue of `lang`, compiled from its .po file (English is the messages' own)."""
    po = LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == "en" or not po.exists():
        return NullTranslations()
    with po.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


class Pages:
    """One Jinja environment per language."""

    def __init__(self, zone: str) -> None:
        folder = str(files("templates") / "console")
        self.zone = ZoneInfo(zone)
        self.envs = {lang: self._env(folder, lang) for lang in LANGUAGES}

    def _env(self, folder: str, lang: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(folder),
            autoescape=True,
            undefined=StrictUndefined,
            auto_reload=False,
            extensions=["jinja2.ext.i18n"],
        )
        catalogue = translations(lang)
        env.install_gettext_translations(catalogue, newstyle=True)  # type: ignore[attr-defined]
        # A message that may hold what a user typed (an error naming their input): translated
        # when the catalogue has it, and escaped like any text (`_()` marks its result safe).
        env.filters["tr"] = lambda text: translated(text, catalogue)
        env.filters["when"] = self.when
        env.filters["left"] = lambda delta: time_left(delta, lang)
        env.filters["local"] = self.when_in
        env.filters["paragraphs"] = paragraphs
        env.globals["lang"] = lang
        return env

    def when(self, moment: datetime | str) -> str:
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return f"{value.astimezone(self.zone):%Y-%m-%d %H:%M}"  # the same in every language

    def when_in(self, moment: datetime | str, zone: str) -> str:
        """A moment as a member reads it in their own zone."""
        value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return f"{value.astimezone(zone_named(zone)):%Y-%m-%d %H:%M} ({zone})"

    def render(
        self,
        request: Request,
        name: str,
        user: ConsoleUser | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        lang = language(request, user)
        signing = keys(request)
        body = (
            self.envs[lang]
            .get_template(f"{name}.html.j2")
            .render(
                user=user,
                csrf_field=CSRF_FIELD,
                csrf_token=signing.form_token(request),
                prefix=PREFIX,
                path=request.url.path,
                **context,
            )
        )
        response = HTMLResponse(body, status)
        return with_csrf_cookie(request, response)


def with_csrf_cookie(request: Request, response: Response) -> Response:
    """Sets the CSRF cookie when this request made its value; pages are never cached."""
    new = getattr(request.state, "new_csrf", "")
    if new:
        options = keys(request).cookie_options()
        response.set_cookie(CSRF_COOKIE, new, samesite="strict", **options)
    response.headers["Cache-Control"] = "no-store"
    return response


def translated(text: str, catalogue: NullTranslations) -> str:
    """A message in the catalogue's language: a domain error's template (statemachines.errors.
    Message) translated, then its values written in (those that are messages translated too);
    the English text when the catalogue has no usable translation."""
    template = getattr(text, "template", text)
    params = getattr(text, "params", {})
    if not isinstance(template, str):
        return str(text)
    wording = catalogue.gettext(template)
    if not params:
        return wording
    values = {
        name: translated(value, catalogue) if isinstance(value, Message) else value
        for name, value in params.items()
    }
    try:
        return wording.format(**values)
    except (KeyError, IndexError, ValueError):
        return str.__str__(text)


@lru_cache(maxsize=512)
def zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def paragraphs(text: str) -> list[str]:
    """A statement's text as members read it: paragraphs separated by blank lines."""
    parts = text.replace("\r\n", "\n").split("\n\n")
    return [part.strip() for part in parts if part.strip()]


def time_left(delta: timedelta, lang: str) -> str:
    """`3 days`, `5 hours`: how long until a deadline, in words of `lang`."""
    return str(format_timedelta(delta, threshold=1.5, locale=lang))
