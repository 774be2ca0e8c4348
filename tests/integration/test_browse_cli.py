"""What the console lists, the CLI lists too (issue 19): `accord members list` searches and
pages through members with the console's service, `accord audit list` browses the decision
record by entity; bad input is a one-line error that changes nothing."""

from __future__ import annotations

import json

import pytest

from accord.services.context import Context
from accord.services.members import import_members
from tests.cli import run
from tests.conftest import FIXTURES

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def ok(*args: object) -> str:
    done = run(*map(str, args))
    assert done.code == 0, done.stderr
    return done.stdout


def refused(*args: object) -> str:
    done = run(*map(str, args))
    assert done.code == 1, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    return done.stderr


def test_members_list_searches_filters_and_pages(ctx: Context) -> None:
    import_members(ctx, FIXTURES / "members.csv")
    every = json.loads(ok("members", "list", "--json"))
    assert len(every) == 7
    assert list(every[0]) == [
        "id",
        "email",
        "name",
        "organisation",
        "language",
        "timezone",
        "groups",
        "undeliverable",
    ]
    found = json.loads(ok("members", "list", "--search", "BRADFORD", "--json"))
    assert [m["email"] for m in found] == ["barry.cusack@example.org"]
    in_reci = json.loads(ok("members", "list", "--group", "RECI", "--json"))
    assert "gemma.pinyol@example.org" in [m["email"] for m in in_reci]
    page = json.loads(ok("members", "list", "--limit", 2, "--offset", 2, "--json"))
    assert page == every[2:4]
    text = ok("members", "list", "--limit", 2, "--offset", 2).splitlines()
    assert text[-1] == "members 3-4 of 7" and len(text) == 3
    assert ok("members", "list").splitlines()[-1] == "7 member(s)"


@SQLITE_ONLY
def test_members_list_refuses_bad_input_in_one_line(ctx: Context) -> None:
    assert "limit 0: give 1 or more" in refused("members", "list", "--limit", 0)
    assert "offset -1: give 0 or more" in refused("members", "list", "--offset", -1)
    assert "Nobody" in refused("members", "list", "--group", "Nobody")


def test_audit_list_browses_the_record_by_entity(ctx: Context) -> None:
    import_members(ctx, FIXTURES / "members.csv")
    import_members(ctx, FIXTURES / "members.csv")
    entries = json.loads(ok("audit", "list", "--json"))
    assert list(entries) == ["entries", "older_than"]
    seqs = [e["seq"] for e in entries["entries"]]
    assert seqs == sorted(seqs, reverse=True) and entries["older_than"] is None
    first = json.loads(ok("audit", "list", "--limit", 1, "--json"))
    assert [e["seq"] for e in first["entries"]] == seqs[:1] and first["older_than"] == seqs[0]
    older = json.loads(ok("audit", "list", "--before", seqs[0], "--json"))
    assert [e["seq"] for e in older["entries"]] == seqs[1:]
    imports = json.loads(ok("audit", "list", "--entity", "members:members.csv", "--json"))
    assert [e["action"] for e in imports["entries"]] == ["import", "import"]
    assert json.loads(ok("audit", "list", "--entity", "round", "--json"))["entries"] == []
    text = ok("audit", "list", "--entity", "members", "--limit", 1)
    assert "members members.csv: import" in text and f"--before {seqs[0]}" in text


@SQLITE_ONLY
def test_audit_list_refuses_bad_input_in_one_line(ctx: Context) -> None:
    assert "limit 0: give 1 to 10000" in refused("audit", "list", "--limit", 0)
    assert "before 0" in refused("audit", "list", "--before", 0)
    assert "give TYPE or TYPE:ID" in refused("audit", "list", "--entity", ":3")
