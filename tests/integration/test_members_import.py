"""`accord members import` writes what the file says, on SQLite and PostgreSQL: new members in the
file's order with their groups, and on a second import only the members that changed. On
PostgreSQL the whole file goes in a few short statements (issue 8: 10,000 members under 3 s)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from accord.services.context import Context
from accord.services.members import import_members
from storage import tables as t

HEADER = "name,email,organisation,groups,language,timezone\n"
GROUPS = ("", "Network", "Advisory Group;Network", "Board")


def _line(n: int, name: str = "Member", groups: str | None = None) -> str:
    chosen = GROUPS[n % len(GROUPS)] if groups is None else groups
    organisation = "" if n % 5 == 0 else f"City {n}"
    return f"{name} {n},Member{n}@Example.org,{organisation},{chosen},fr,Europe/Paris\n"


def _file(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _members(ctx: Context) -> list[Any]:
    with ctx.uow(readonly=True) as uow:
        return list(uow.session.execute(select(t.members).order_by(t.members.c.id)))


def _links(ctx: Context) -> set[tuple[str, str]]:
    query = (
        select(t.members.c.email, t.groups.c.name)
        .join(t.memberships, t.memberships.c.member_id == t.members.c.id)
        .join(t.groups, t.groups.c.id == t.memberships.c.group_id)
    )
    with ctx.uow(readonly=True) as uow:
        return {(email, group) for email, group in uow.session.execute(query)}


def _expected_links(count: int) -> set[tuple[str, str]]:
    return {
        (f"member{n}@example.org", group)
        for n in range(count)
        for group in GROUPS[n % len(GROUPS)].split(";")
        if group
    }


def test_new_members_are_written_in_the_files_order_with_their_groups(
    ctx: Context, tmp_path: Path
) -> None:
    before = datetime.now(UTC)
    result = import_members(ctx, _file(tmp_path, "m.csv", [_line(n) for n in range(30)]))
    after = datetime.now(UTC)
    assert (result.created, result.updated, result.unchanged) == (30, 0, 0)
    members = _members(ctx)
    assert [m.email for m in members] == [f"member{n}@example.org" for n in range(30)]
    assert [m.organisation for m in members[:2]] == [None, "City 1"]
    assert {(m.name, m.language, m.timezone) for m in members[:1]} == {
        ("Member 0", "fr", "Europe/Paris")
    }
    assert not any(m.undeliverable for m in members)
    assert all(before <= m.created_at <= after and before <= m.updated_at <= after for m in members)
    assert _links(ctx) == _expected_links(30)


def test_a_second_import_rewrites_only_the_members_that_changed(
    ctx: Context, tmp_path: Path
) -> None:
    import_members(ctx, _file(tmp_path, "first.csv", [_line(n) for n in range(4)]))
    stamps = {m.email: m.updated_at for m in _members(ctx)}
    second = [
        _line(0),  # unchanged
        _line(1, name="Renamed"),  # a field changed
        _line(2, groups="Board"),  # only the groups changed
        _line(3, groups=""),  # out of its only group
        _line(4),  # new
    ]
    result = import_members(ctx, _file(tmp_path, "second.csv", second))
    emails = [f"member{n}@example.org" for n in range(5)]
    assert (result.created, result.updated, result.unchanged) == (1, 3, 1)
    assert [(c.email, c.created) for c in result.changes] == [
        (emails[1], False),
        (emails[2], False),
        (emails[3], False),
        (emails[4], True),
    ]
    members = {m.email: m for m in _members(ctx)}
    assert (members[emails[1]].name, members[emails[1]].organisation) == ("Renamed 1", "City 1")
    assert members[emails[1]].updated_at > stamps[emails[1]]
    # Setting equal values writes nothing: the members row of a groups-only change is untouched.
    for n in (0, 2, 3):
        assert members[emails[n]].updated_at == stamps[emails[n]]
    links = _expected_links(5) - {(emails[2], "Advisory Group"), (emails[2], "Network")}
    assert _links(ctx) == (links | {(emails[2], "Board")}) - {(emails[3], "Board")}
    with ctx.uow(readonly=True) as uow:
        query = select(t.audit_log.c.payload).order_by(t.audit_log.c.seq)
        payloads = [json.loads(p) for p in uow.session.scalars(query)]
    assert [(p["created"], p["updated"], p["unchanged"]) for p in payloads] == [
        (4, 0, 0),
        (1, 3, 1),
    ]


def test_on_postgresql_a_large_file_goes_in_a_few_short_statements(
    ctx: Context, tmp_path: Path
) -> None:
    """Not one statement (or one placeholder) a member: psycopg rewrites every placeholder of a
    statement on the client, which made a 10,000-member import spend a second on the query text."""
    if not ctx.settings.db_url.startswith("postgresql"):
        pytest.skip("SQLite binds a statement's parameters without rewriting it")
    statements: list[tuple[str, bool]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        statements.append((sql, many))

    event.listen(ctx.db.engine, "before_cursor_execute", seen)
    try:
        lines = [_line(n) for n in range(2_000)]
        import_members(ctx, _file(tmp_path, "many.csv", lines))
        again = import_members(ctx, _file(tmp_path, "again.csv", lines))
        moved = [_line(n, name="Moved", groups="Board") for n in range(2_000)]
        changed = import_members(ctx, _file(tmp_path, "changed.csv", moved))
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", seen)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2_000)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 2_000, 0)
    assert _links(ctx) == {(f"member{n}@example.org", "Board") for n in range(2_000)}
    assert {m.name for m in _members(ctx)} == {f"Moved {n}" for n in range(2_000)}
    assert not [sql for sql, many in statements if many]
    assert len(statements) < 40
    assert max(len(sql) for sql, _ in statements) < 2_000
