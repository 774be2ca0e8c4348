"""Members as the console and `accord members list` page through them: those matching a search
and a group, by name, one page at a time with the number matching in all (three queries: the
count, the page, the page's groups; never one a member)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Select, func, select

from storage.tables import groups, members, memberships


@dataclass(frozen=True)
class MemberListRow:
    """A member as `accord members list --json` prints it and the console lists it."""

    id: int
    email: str
    name: str
    organisation: str | None
    language: str
    timezone: str
    groups: tuple[str, ...]
    undeliverable: bool


def member_list(
    connection: Connection, *, search: str, group: str | None, offset: int, limit: int | None
) -> tuple[list[MemberListRow], int]:
    """Members whose name, email or organisation holds `search` (any case), in `group` when
    given, ordered by name then email; `limit` None for all of them. And how many match."""
    wanted = _matching(search, group)
    total = int(
        connection.execute(select(func.count()).select_from(wanted.subquery())).scalar_one()
    )
    query = (
        select(
            members.c.id,
            members.c.email,
            members.c.name,
            members.c.organisation,
            members.c.language,
            members.c.timezone,
            members.c.undeliverable,
        )
        .where(members.c.id.in_(wanted))
        .order_by(members.c.name, members.c.email)
        .offset(offset)
        .limit(limit)
    )
    found = list(connection.execute(query))
    names = _group_names(connection, query.with_only_columns(members.c.id))
    rows = [
        MemberListRow(*row[:6], tuple(names.get(row.id, ())), bool(row.undeliverable))
        for row in found
    ]
    return rows, total


def _matching(search: str, group: str | None) -> Select[tuple[int]]:
    wanted = select(members.c.id)
    if search:
        pattern = f"%{search.lower()}%"
        wanted = wanted.where(
            func.lower(members.c.name).like(pattern)
            | func.lower(members.c.email).like(pattern)
            | func.lower(func.coalesce(members.c.organisation, "")).like(pattern)
        )
    if group:
        wanted = wanted.where(
            members.c.id.in_(
                select(memberships.c.member_id)
                .join(groups, groups.c.id == memberships.c.group_id)
                .where(groups.c.name == group)
            )
        )
    return wanted


def _group_names(connection: Connection, page: Select[tuple[int]]) -> dict[int, list[str]]:
    """Each member's groups by name, for the members of the page."""
    query = (
        select(memberships.c.member_id, groups.c.name)
        .join(groups, groups.c.id == memberships.c.group_id)
        .where(memberships.c.member_id.in_(page.subquery().select()))
        .order_by(groups.c.name)
    )
    names: dict[int, list[str]] = {}
    for member_id, name in connection.execute(query):
        names.setdefault(member_id, []).append(name)
    return names
