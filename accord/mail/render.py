"""Render a mail from `templates/mail/` in the member's language: subject, plain text and HTML.

Each purpose has three templates per language: `{purpose}.{lang}.subject.j2`, `.txt.j2` and
`.html.j2`. HTML is autoescaped and gets its CSS (the `<style>` of `_layout.html.j2`) inlined,
because many mail clients drop `<style>` elements. The Jinja environment (with its compiled
templates) and the CSS inliner are built once, on first use, and reused for every recipient.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
PURPOSES = (
    "invitation",
    "consultation",
    "reminder",
    "revision",
    "receipt",
    "result",
    "published",
    "withdrawal",
    "explain",
)

# Control characters (CR and LF among them) and Unicode line/paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(purpose: str, language: str, context: Mapping[str, Any]) -> Rendered:
    """Render one mail in `language` (en or fr, regional forms included; anything else: en).

    Every key a template uses must be in `context` (StrictUndefined): a missing value is a bug to
    see, not a blank to send.
    """
    if purpose not in PURPOSES:
        raise ValueError(f"no mail templates for purpose '{purpose}'")
    env = _environment()
    lang = language_for(language)
    values = {**context, "lang": lang}
    values["subject"] = one_line(env.get_template(f"{purpose}.{lang}.subject.j2").render(values))
    text = env.get_template(f"{purpose}.{lang}.txt.j2").render(values)
    html = _inliner().inline(env.get_template(f"{purpose}.{lang}.html.j2").render(values))
    return Rendered(subject=values["subject"], text=text, html=html)


def language_for(language: str | None) -> str:
    """`fr`, `fr-BE`, `FR_ca` → `fr`; anything unknown → `en`."""
    base = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def one_line(value: str) -> str:
    """The value on one line: control characters become spaces, runs of whitespace one space."""
    return " ".join(_CONTROL.sub(" ", value).split())


def fingerprint(sha256: str) -> str:
    """A hex digest in groups of four, easier to compare by eye: `3f2a 9b1c …`."""
    return " ".join(sha256[i : i + 4] for i in range(0, len(sha256), 4))


@lru_cache(maxsize=64)
def paragraphs(text: str) -> Markup:
    """Plain text as escaped HTML paragraphs (blank lines) with line breaks kept.

    Cached: a round's statement is the same for every recipient.
    """
    blocks = [b for b in _BLANK_LINE.split(text.replace("\r\n", "\n").strip()) if b.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in b.split("\n")))
        for b in blocks
    )


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(files("templates") / "mail")),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["fingerprint"] = fingerprint
    env.filters["paragraphs"] = paragraphs
    return env


@cache
def _inliner() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)
