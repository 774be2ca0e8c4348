"""Render a mail from `templates/mail/` in the member's language: subject, plain text and HTML.

Each purpose has three templates per language: `{purpose}.{lang}.subject.j2`, `.txt.j2` and
`.html.j2`. HTML is autoescaped and gets its CSS (the `<style>` of `_layout.html.j2`) inlined,
because many mail clients drop `<style>` elements. The Jinja environment (with its compiled
templates) and the CSS inliner are built once, on first use, and reused for every recipient.

A round's mail differs from one member to the next only in a few values (name, link, reply
address, deadline in their time zone). `prepare` renders and inlines a purpose once, with a slot
where each of those values goes, and `Skeleton.fill` writes one member's values into the slots,
escaped as the inliner would have written them: the same bytes as `render`, for a fraction of the
time. `prepare` proves that on the templates it is given before it hands a skeleton out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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

# Mail about follow-up actions, to bodies' contacts and the secretariat: in the language of the
# member (or console user) with the address, written in the outbox row's data (docs/reports.md).
ACTION_PURPOSES = ("action_reminder", "action_digest")

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
    if purpose not in PURPOSES and purpose not in ACTION_PURPOSES:
        raise ValueError(f"no mail templates for purpose '{purpose}'")
    env = _environment()
    lang = language_for(language)
    values = {**context, "lang": lang}
    values["subject"] = one_line(env.get_template(f"{purpose}.{lang}.subject.j2").render(values))
    text = env.get_template(f"{purpose}.{lang}.txt.j2").render(values)
    html = _inliner().inline(env.get_template(f"{purpose}.{lang}.html.j2").render(values))
    return Rendered(subject=values["subject"], text=text, html=html)


_SLOT = re.compile("\ue000(\\d+)\ue001")
# What the HTML serializer of the inliner escapes, in text and in attribute values.
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "\xa0": "&nbsp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "\xa0": "&nbsp;", '"': "&quot;"})
_PROBE = "\u00e9<&>\"' \xa0{n} x"


@dataclass(frozen=True)
class Skeleton:
    """A purpose rendered once for all that recipients share, with slots for their own values.

    `text` and `html` alternate literal strings and slots: a slot is the index of its value in
    `names`, and in the HTML also whether it stands inside a tag (an attribute value). `truth`
    is whether each value was true when the skeleton was proved: a template that tests a value
    (`{% if link %}`) could take another branch for a value that is not.
    """

    names: tuple[str, ...]
    subject: str
    text: tuple[str | int, ...]
    html: tuple[str | tuple[int, bool], ...]
    truth: tuple[bool, ...] = ()

    def fill(self, values: Mapping[str, object]) -> Rendered | None:
        """The mail with these values (by dotted name); None for a value the fast path does not
        write exactly as `render` would (control characters: the HTML parser rewrites them; a
        value whose truth differs from the proof's)."""
        if self.truth and tuple(bool(values[name]) for name in self.names) != self.truth:
            return None
        plain = [str(values[name]) for name in self.names]
        if any(_CONTROL.search(v) or "\ue000" in v or "\ue001" in v for v in plain):
            return None
        text = "".join(part if isinstance(part, str) else plain[part] for part in self.text)
        html = "".join(
            part
            if isinstance(part, str)
            else plain[part[0]].translate(_ATTRIBUTE_ESCAPES if part[1] else _TEXT_ESCAPES)
            for part in self.html
        )
        return Rendered(subject=self.subject, text=text, html=html)

    def fill_from(self, context: Mapping[str, Any]) -> Rendered | None:
        """`fill` with the values a whole context holds at the skeleton's names."""
        return self.fill({name: _get(context, name) for name in self.names})


def prepare(
    purpose: str, language: str, context: Mapping[str, Any], names: Sequence[str]
) -> Skeleton | None:
    """A skeleton of `render(purpose, language, context)` with a slot for each dotted name
    (`member.name`, `link`, ...), or None when these templates do not allow one: a value in the
    subject, a value a template tests or transforms (checked by rendering probe values both ways,
    and the given context both ways)."""
    names = tuple(names)
    try:
        slotted = render(
            purpose, language, _with(context, {n: f"\ue000{i}\ue001" for i, n in enumerate(names)})
        )
        if _SLOT.search(slotted.subject):
            return None
        skeleton = Skeleton(
            names, slotted.subject, tuple(_split(slotted.text)), tuple(_split_html(slotted.html))
        )
        probes = {n: _PROBE.format(n=n) for n in names}
        for values in (probes, {n: _get(context, n) for n in names}):
            if skeleton.fill(values) != render(purpose, language, _with(context, values)):
                return None
        truth = tuple(bool(_get(context, n)) for n in names)
        skeleton = Skeleton(names, skeleton.subject, skeleton.text, skeleton.html, truth)
    except Exception:  # a template that cannot take a slot or a probe: render each mail
        return None
    return skeleton


def _get(context: Mapping[str, Any], name: str) -> Any:
    value: Any = context
    for key in name.split("."):
        value = value[key]
    return value


def _with(context: Mapping[str, Any], values: Mapping[str, object]) -> dict[str, Any]:
    """A copy of `context` with each dotted name set to its value (nested dicts copied)."""
    result = dict(context)
    for name, value in values.items():
        *path, last = name.split(".")
        target = result
        for key in path:
            target[key] = dict(target[key])
            target = target[key]
        target[last] = value
    return result


def _split(text: str) -> list[str | int]:
    parts = _SLOT.split(text)
    return [part if n % 2 == 0 else int(part) for n, part in enumerate(parts)]


def _split_html(html: str) -> list[str | tuple[int, bool]]:
    result: list[str | tuple[int, bool]] = []
    start = 0
    for match in _SLOT.finditer(html):
        before = html[: match.start()]
        result.append(html[start : match.start()])
        result.append((int(match.group(1)), before.rfind("<") > before.rfind(">")))
        start = match.end()
    result.append(html[start:])
    return result


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
