"""Members and groups: import from CSV (all rows checked before anything is written), list."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from accord.services.context import Context
from accord.services.csvfile import unneutralised
from accord.services.languages import ISO_639_1
from statemachines.errors import InvalidInput
from statemachines.records import Group
from storage.repositories import MemberFields, MemberSnapshot

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


@dataclass(frozen=True, slots=True)
class MemberChange:
    """What an import does to one member: created or updated, the columns that change, the
    groups joined and left."""

    email: str
    created: bool
    fields: tuple[str, ...] = ()
    joined: tuple[str, ...] = ()
    left: tuple[str, ...] = ()

    def describe(self, *, done: bool = True) -> str:
        """`updated a@b.org: organisation; left Board` (`would update …` when not `done`)."""
        parts = [", ".join(self.fields)] if self.fields else []
        parts += [f"joined {', '.join(self.joined)}"] if self.joined else []
        parts += [f"left {', '.join(self.left)}"] if self.left else []
        verb = "create" if self.created else "update"
        verb = f"{verb}d" if done else f"would {verb}"
        return f"{verb} {self.email}" + (f": {'; '.join(parts)}" if parts else "")


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, in a dry run, would do): the counts and every change; the JSON of
    `accord members import --json`."""

    created: int
    updated: int
    unchanged: int
    changes: tuple[MemberChange, ...]
    dry_run: bool = False

    def summary(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"

    def left_groups(self) -> dict[str, list[str]]:
        """The groups each member leaves (what the decision record keeps of an import)."""
        return {c.email: list(c.left) for c in self.changes if c.left}


@dataclass(frozen=True)
class MemberView:
    """A member as `accord members list --json` prints it and the console lists it."""

    id: int
    email: str
    name: str
    organisation: str | None
    language: str
    timezone: str
    groups: tuple[str, ...]
    undeliverable: bool


MAX_PROBLEMS_SHOWN = 20
FIELD_NAMES = ("name", "organisation", "language", "timezone")  # MemberFields'


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


Progress = Callable[[int, int], None]  # (rows done, rows in all), as the work advances
WRITE_CHUNK = 1_000  # rows compared and written between two progress calls


def import_members(ctx: Context, path: Path, *, dry_run: bool = False) -> ImportResult:
    """Create and update members from the file; with `dry_run`, only say what that would do."""
    rows = read_member_file(path, ctx.settings.timezone)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return import_rows(ctx, rows, source=path.name, digest=digest, dry_run=dry_run)


def import_rows(
    ctx: Context,
    rows: list[MemberRow],
    *,
    source: str,
    digest: str,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import checked rows in one transaction, WRITE_CHUNK rows at a time (each chunk compared
    and written, then `progress` told), recorded as an import of `source` (the file's name)."""
    changes = _Changes()
    with ctx.uow(readonly=dry_run) as uow:
        for start in range(0, len(rows), WRITE_CHUNK):
            chunk = rows[start : start + WRITE_CHUNK]
            found = _changes(chunk, uow.members.snapshots([r.email for r in chunk]))
            if not dry_run:
                _apply_changes(uow, chunk, found)
            changes.add(found)
            if progress is not None:
                progress(start + len(chunk), len(rows))
        result = changes.result(dry_run)
        if dry_run:
            return result
        ctx.record(
            uow,
            entity_type="members",
            entity_id=source,
            action="import",
            at=ctx.now(),
            payload={
                "file_sha256": digest,
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "left_groups": result.left_groups(),
            },
        )
        uow.commit()
    return result


def _apply_changes(uow: Any, rows: list[MemberRow], changes: _Changes) -> None:
    """Write what changed: new members, changed columns, changed groups, a few statements each
    (not an object each)."""
    names = dict.fromkeys(name for r in rows for name in r.groups)  # each group once, in order
    groups = {name: uow.groups.get_or_create(name) for name in names}
    uow.flush()  # new groups get their ids
    uow.members.set_fields(changes.fields)
    _regroup(uow, changes.regrouped, groups)
    _insert_members(uow, changes.new, groups)


@dataclass
class _Changes:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[MemberChange] = field(default_factory=list)
    new: list[MemberRow] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)  # with the member's id
    regrouped: dict[int, MemberRow] = field(default_factory=dict)  # by member id

    def add(self, other: _Changes) -> None:
        """Count a chunk's changes in (what is left to write is the chunk's own business)."""
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.changes += other.changes

    def result(self, dry_run: bool) -> ImportResult:
        return ImportResult(
            self.created, self.updated, self.unchanged, tuple(self.changes), dry_run
        )


def _changes(rows: list[MemberRow], existing: dict[str, MemberSnapshot]) -> _Changes:
    """A members row is written only when one of its columns changes (as the ORM did), its
    memberships only when its groups do; a column the file does not have changes nothing."""
    changes = _Changes()
    for row in rows:
        found = existing.get(row.email)
        if found is None:
            changes.new.append(row)
            changes.created += 1
            changes.changes.append(MemberChange(row.email, True, joined=row.groups))
            continue
        fields = _fields(row, found.fields)
        changed = ()
        if fields != found.fields:
            changed = tuple(
                n for n in FIELD_NAMES if getattr(found.fields, n) != getattr(fields, n)
            )
        if changed:
            changes.fields.append({"id": found.id, **{n: getattr(fields, n) for n in FIELD_NAMES}})
        groups = frozenset(row.groups) if "groups" in row.columns else found.groups
        if groups != found.groups:
            changes.regrouped[found.id] = row
        if not changed and groups == found.groups:
            changes.unchanged += 1
            continue
        changes.updated += 1
        joined = tuple(g for g in row.groups if g not in found.groups)
        left = tuple(sorted(found.groups - groups))
        changes.changes.append(MemberChange(row.email, False, changed, joined, left))
    return changes


def _fields(row: MemberRow, stored: MemberFields) -> MemberFields:
    """The row's columns, and the stored value of each column the file does not have."""
    columns = row.columns
    return MemberFields(
        row.name,
        row.organisation if "organisation" in columns else stored.organisation,
        row.language if "language" in columns else stored.language,
        row.timezone if "timezone" in columns else stored.timezone,
    )


def _regroup(uow: Any, members: dict[int, MemberRow], groups: dict[str, Group]) -> None:
    """Members whose groups changed are in exactly the groups of their row."""
    uow.members.leave_groups(list(members))
    uow.members.add_memberships(
        [
            {"member_id": member_id, "group_id": groups[name].id}
            for member_id, row in members.items()
            for name in row.groups
        ]
    )


def _insert_members(uow: Any, rows: list[MemberRow], groups: dict[str, Group]) -> None:
    """New members and their memberships in two statements (not one object each: 10,000 members
    are written in a fraction of the time), in the file's order."""
    if not rows:
        return
    ids = uow.members.add_new(
        [
            {
                "email": row.email,
                "name": row.name,
                "organisation": row.organisation,
                "language": row.language,
                "timezone": row.timezone,
                "undeliverable": False,
            }
            for row in rows
        ]
    )
    uow.members.add_memberships(
        [
            {"member_id": ids[row.email], "group_id": groups[name].id}
            for row in rows
            for name in row.groups
        ]
    )
