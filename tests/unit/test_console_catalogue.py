"""The console's words: every message of its templates and routes has a French translation in
the catalogue (extracted as `pybabel extract` does, with accord/web/console/babel.cfg)."""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from accord.web.console.pages import LOCALE, translations

ROOT = Path(__file__).parents[2]


def extracted() -> set[str]:
    with (ROOT / "accord/web/console/babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "msg": None}
    found = extract_from_dir(ROOT, method_map, options_map, keywords=keywords)
    return {message for _file, _line, message, _comments, _context in found if message}


def translated_into_french() -> set[str]:
    with (LOCALE / "fr/LC_MESSAGES/console.po").open("rb") as po:
        catalog = read_po(po)
    return {m.id for m in catalog if m.id and m.string and not m.fuzzy}


def test_every_console_message_is_translated_into_french() -> None:
    messages = extracted()
    assert "Log in to the console" in messages
    assert messages - translated_into_french() == set()


def test_the_catalogue_compiles_in_memory() -> None:
    assert translations("fr").gettext("Dashboard") == "Tableau de bord"
    assert translations("en").gettext("Dashboard") == "Dashboard"


ERRORS = {"Message", "AccordError", "InvalidInput", "GuardFailed", "NotFound", "Conflict"}
ERRORS |= {"RoundClosed", "LoginRefused", "LockedOut"}


def error_templates() -> set[str]:
    """The templates of the domain's messages that carry values (`Message("…", name=…)`,
    `raise InvalidInput("…", name=…)`), or are messages of their own (`Message("…")`)."""
    found = set()
    for folder in ("accord", "statemachines"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                first = node.args[0]
                literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
                if literal and name in ERRORS and (node.keywords or name == "Message"):
                    found.add(first.value)
    return found


def test_every_domain_error_with_values_is_translated_into_french() -> None:
    templates = error_templates()
    assert "group '{group}' refuses statements of kind '{kind}'" in templates
    assert templates - translated_into_french() == set()
