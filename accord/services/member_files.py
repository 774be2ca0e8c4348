"""A members CSV read and checked: every row before anything is written, each bad row named
with its line (BadRows), the addresses as email_validator normalises them."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from accord.services.csvfile import unneutralised
from accord.services.languages import ISO_639_1
from statemachines.errors import InvalidInput

COLUMNS = ("name", "email", "organisation", "groups", "language", "timezone")
REQUIRED = ("name", "email")


@dataclass(frozen=True)
class MemberRow:
    """A checked row. `columns` are the file's columns: a column the file does not have leaves
    the stored value as it is (its field here holds the default a new member gets)."""

    line: int
    name: str
    email: str
    organisation: str | None
    groups: tuple[str, ...]
    language: str
    timezone: str
    columns: frozenset[str] = frozenset(COLUMNS)


MAX_PROBLEMS_SHOWN = 20


class BadRows(InvalidInput):
    """Every bad row of a member file, one line each."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = [f"{source}: {p}" for p in problems]
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        if len(self.problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"… and {len(self.problems) - MAX_PROBLEMS_SHOWN} more bad rows")
        super().__init__("\n".join(shown))


def read_member_file(path: Path, default_timezone: str) -> list[MemberRow]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InvalidInput(f"{path}: UTF-16, not a UTF-8 text file; save it as UTF-8 (CSV UTF-8)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not a UTF-8 text file; save it as UTF-8 (CSV UTF-8)") from None
    return parse_member_csv(text, default_timezone, source=str(path))


def parse_member_csv(text: str, default_timezone: str, source: str = "members") -> list[MemberRow]:
    """Check every row; any problem raises BadRows naming each bad line, nothing half-read."""
    if "\x00" in text:
        raise InvalidInput(f"{source}: not a text file (it holds NUL bytes)")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    _check_header(header, source)
    reader.fieldnames = header
    columns = frozenset(header) & frozenset(COLUMNS)
    rows, problems, seen = [], [], {}
    for record in reader:
        line = reader.line_num
        try:
            row = _check_row(record, line, len(header), default_timezone, columns)
        except InvalidInput as exc:
            problems.append(f"line {line}: {exc}")
            continue
        if row.email in seen:
            problems.append(f"line {line}: {row.email} is already on line {seen[row.email]}")
            continue
        seen[row.email] = line
        rows.append(row)
    if problems:
        raise BadRows(source, problems)
    if not rows:
        raise InvalidInput(f"{source}: no member rows after the header")
    return rows


def _check_header(header: list[str], source: str) -> None:
    """A header accord can read: the required columns, each column once, separated by commas."""
    if not header:
        raise InvalidInput(f"{source}: empty file (expected a header: {','.join(COLUMNS)})")
    if len(header) == 1 and ";" in header[0]:
        raise InvalidInput(
            f"{source}: line 1: the columns are separated by semicolons; "
            "save the file as CSV with commas (CSV UTF-8)"
        )
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InvalidInput(f"{source}: line 1: column '{twice[0]}' appears twice in the header")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput(
            f"{source}: line 1: missing column(s) {', '.join(missing)} "
            f"(expected {','.join(COLUMNS)})"
        )


def _check_row(
    record: dict[str | None, Any],
    line: int,
    width: int,
    default_tz: str,
    columns: frozenset[str] = frozenset(COLUMNS),
) -> MemberRow:
    if record.get(None):
        raise InvalidInput(f"too many fields ({width} expected, as in the header)")
    value = {k: unneutralised((v or "").strip()) for k, v in record.items() if k}
    if not value.get("name"):
        raise InvalidInput("name is empty")
    email = _checked_email(value.get("email", ""))
    language = (value.get("language") or "en").lower()
    if language.split("-")[0] not in ISO_639_1:
        raise InvalidInput(f"unknown language code '{language}' (use ISO 639-1, e.g. en, fr)")
    timezone = value.get("timezone") or default_tz
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone '{timezone}' (e.g. Europe/Paris)") from None
    groups = tuple(
        dict.fromkeys(g.strip() for g in value.get("groups", "").split(";") if g.strip())
    )
    return MemberRow(
        line,
        _one_line(value["name"]),
        email,
        value.get("organisation") or None,
        groups,
        language,
        timezone,
        columns,
    )


# RFC 5322 dot-atom of ASCII characters: the local part of nearly every address.
_DOT_ATOM = re.compile(r"[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+(?:\.[A-Za-z0-9_!#$%&'*+\-/=?^`{|}~]+)*\Z")


def _checked_email(text: str) -> str:
    """The address as email_validator normalises it, lowercased. Checking the domain is most of
    email_validator's work, and a file's members share a few domains: an ASCII dot-atom address
    whose domain email_validator accepted (and left as it was, lowercased) is taken as is; any
    other address is checked in full, and a refusal always comes from email_validator."""
    if not text:
        raise InvalidInput("email is empty")
    local, _, domain = text.rpartition("@")
    if (
        text.isascii()
        and len(local) <= 64
        and len(text) <= 254
        and _DOT_ATOM.match(local)
        and _checked_domain(domain) == domain.lower()
    ):
        return text.lower()
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"invalid email '{text}': {exc}") from None
    return checked.normalized.lower()


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str | None:
    """The domain as email_validator normalises it in an address, or None if it refuses it."""
    try:
        return str(validate_email(f"postmaster@{domain}", check_deliverability=False).domain)
    except EmailNotValidError:
        return None


def _one_line(text: str) -> str:
    """Names end up in mail headers: no CR, LF or other control characters (each becomes a
    space; a name without any is only spaced out, without going through it character by
    character)."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())
