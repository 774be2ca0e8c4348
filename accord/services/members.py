"""Members and groups: import a members file (read and checked by services/member_files.py),
chunk by chunk in one transaction, saying what changed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.services.context import Context
from accord.services.member_files import MemberRow, read_member_file
from statemachines.errors import Message
from statemachines.records import Group
from storage.repositories import MemberFields, MemberSnapshot


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

    def summary(self) -> Message:
        return Message(
            "{created} created, {updated} updated, {unchanged} unchanged",
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )

    def left_groups(self) -> dict[str, list[str]]:
        """The groups each member leaves (what the decision record keeps of an import)."""
        return {c.email: list(c.left) for c in self.changes if c.left}


FIELD_NAMES = ("name", "organisation", "language", "timezone")  # MemberFields'


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
