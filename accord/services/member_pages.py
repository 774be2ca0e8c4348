"""Members, groups and the decision record as the console and the CLI page through them:
search, pages (one query for the rows, one for the count), a members file checked before
anything is imported."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from accord.services.audit import verify_audit
from accord.services.context import Context
from accord.services.member_files import MemberRow, parse_member_csv
from accord.services.members import ImportResult, Progress, import_rows
from accord.services.results import NOT_IN_JSON
from statemachines.errors import InvalidInput
from storage.audit import Verification
from storage.console_reads import RecordRow, record_page
from storage.member_reads import MemberListRow, member_list

PAGE_SIZE = 50
MAX_RECORD_LIMIT = 10_000
# The entities accord records, offered by the record page's filter (any other can be typed):
# a constant, because asking the record for its distinct types reads all of it.
ENTITY_TYPES = (
    "action",
    "group",
    "kind",
    "meeting",
    "member",
    "members",
    "round",
    "statement",
    "user",
)
MAX_CSV_BYTES = 20_000_000
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    total: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class MemberList:
    """The members that match, `offset` of them skipped and at most `limit` shown (all when
    None), and how many match in all."""

    members: tuple[MemberListRow, ...]
    total: int
    offset: int
    limit: int | None


def search_members(
    ctx: Context,
    *,
    search: str = "",
    group: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> MemberList:
    """Members whose name, email or organisation holds `search`, in `group`, by name: the
    console's member list and `accord members list` both ask this."""
    if offset < 0:
        raise InvalidInput(f"offset {offset}: give 0 or more")
    if limit is not None and limit < 1:
        raise InvalidInput(f"limit {limit}: give 1 or more")
    with ctx.uow(readonly=True) as uow:
        if group:
            uow.groups.named(group)  # NotFound for a group that does not exist
        rows, total = member_list(
            uow.connection, search=search.strip(), group=group, offset=offset, limit=limit
        )
    return MemberList(tuple(rows), total, offset, limit)


def member_page(
    ctx: Context, *, search: str = "", group: str | None = None, page: int = 1
) -> Page[MemberListRow]:
    """One page of the console's member list (PAGE_SIZE members, numbered from 1)."""
    if page < 1:
        raise InvalidInput("pages are numbered from 1")
    found = search_members(
        ctx, search=search, group=group, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    return Page(list(found.members), page, found.total, PAGE_SIZE)


@dataclass(frozen=True)
class MemberUpload:
    """A members file sent from the console, every row checked: ready to import."""

    source: str
    digest: str
    rows: list[MemberRow]


def check_member_upload(file_name: str, data: bytes, default_timezone: str) -> MemberUpload:
    """The rows of a members CSV sent from the console, checked as `accord members import`
    checks a file: one bad row and BadRows lists them all (named by the file's own name)."""
    name = Path(file_name.replace("\\", "/")).name.strip() or "members.csv"
    if not data:
        raise InvalidInput("the file is empty")
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput("the file is over 20 MB")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(f"{name}: UTF-16, not a UTF-8 text file; save it as UTF-8 (CSV UTF-8)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{name}: not a UTF-8 text file; save it as UTF-8 (CSV UTF-8)") from None
    rows = parse_member_csv(text, default_timezone, source=name)
    return MemberUpload(name, hashlib.sha256(data).hexdigest(), rows)


def import_member_upload(
    ctx: Context, upload: MemberUpload, progress: Progress | None = None
) -> ImportResult:
    """Import a checked upload, recorded as an import of the file (by the console's user)."""
    return import_rows(
        ctx, upload.rows, source=upload.source, digest=upload.digest, progress=progress
    )


@dataclass(frozen=True)
class RecordPage:
    entries: list[RecordRow]
    entity_types: list[str] = field(metadata=NOT_IN_JSON)
    older_than: int | None  # the `before` of the next page, None on the last


def browse_record(
    ctx: Context,
    *,
    entity_type: str = "",
    entity_id: str = "",
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> RecordPage:
    """Entries newest first, of one entity type (and id) when given, older than `before`:
    the console's record page and `accord audit list`."""
    if not 1 <= limit <= MAX_RECORD_LIMIT:
        raise InvalidInput(f"limit {limit}: give 1 to {MAX_RECORD_LIMIT}")
    if before is not None and before < 1:
        raise InvalidInput(f"before {before}: give an entry number, 1 or more")
    with ctx.uow(readonly=True) as uow:
        rows = record_page(
            uow.connection,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            limit=limit + 1,
        )
    more = len(rows) > limit
    shown = rows[:limit]
    return RecordPage(shown, list(ENTITY_TYPES), shown[-1].seq if more else None)


def verify_record(ctx: Context) -> Verification:
    return verify_audit(ctx)
