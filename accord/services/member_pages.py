"""Members, groups and the decision record as the console pages through them: search, pages
of a fixed size (one query for the rows, one for the count), a members file checked before
anything is imported."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from accord.services.audit import verify_audit
from accord.services.context import Context
from accord.services.members import BadRows, ImportResult, import_members
from statemachines.errors import InvalidInput
from storage.audit import Verification
from storage.console_reads import (
    MemberRow,
    RecordRow,
    members_page,
    record_page,
)

PAGE_SIZE = 50
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


def search_members(
    ctx: Context, *, search: str = "", group: str | None = None, page: int = 1
) -> Page[MemberRow]:
    if page < 1:
        raise InvalidInput("pages are numbered from 1")
    with ctx.uow(readonly=True) as uow:
        if group:
            uow.groups.named(group)  # NotFound for a group that does not exist
        rows, total = members_page(
            uow.connection,
            search=search.strip(),
            group=group,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    return Page(rows, page, total, PAGE_SIZE)


def import_member_upload(ctx: Context, file_name: str, data: bytes) -> ImportResult:
    """A members CSV sent from the console, imported as `accord members import` imports a file:
    every row checked first; one bad row (BadRows lists them all) and nothing is imported."""
    name = Path(file_name.replace("\\", "/")).name.strip() or "members.csv"
    if not data:
        raise InvalidInput("the file is empty")
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput("the file is over 20 MB")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return import_members(ctx, path)
        except BadRows as exc:  # named by the file's own name, not the folder it was kept in
            raise BadRows(name, [p.removeprefix(f"{path}: ") for p in exc.problems]) from None
        except InvalidInput as exc:
            raise InvalidInput(str(exc).replace(str(path), name)) from None


@dataclass(frozen=True)
class RecordPage:
    entries: list[RecordRow]
    entity_types: list[str]
    older_than: int | None  # the `before` of the next page, None on the last


def browse_record(
    ctx: Context, *, entity_type: str = "", entity_id: str = "", before: int | None = None
) -> RecordPage:
    with ctx.uow(readonly=True) as uow:
        rows = record_page(
            uow.connection,
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            limit=PAGE_SIZE + 1,
        )
    more = len(rows) > PAGE_SIZE
    shown = rows[:PAGE_SIZE]
    return RecordPage(shown, list(ENTITY_TYPES), shown[-1].seq if more else None)


def verify_record(ctx: Context) -> Verification:
    return verify_audit(ctx)
