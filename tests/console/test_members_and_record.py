"""Members, groups, kinds and the decision record from the console, over real HTTP."""

from __future__ import annotations

import json

import httpx

from accord.services.context import Context
from accord.services.groups import list_groups, list_kinds
from accord.services.setup import DEFAULT_KINDS
from storage.kinds import Kind
from tests.conftest import FIXTURES
from tests.console.helpers import SECRETARIAT, Console, finished_job, snapshot


def upload(console: Console, name: str, data: bytes) -> httpx.Response:
    token = console.token("/console/members")
    return console.http.post(
        "/console/members/upload", data={"csrf_token": token}, files={"members_file": (name, data)}
    )


def test_a_members_file_with_bad_rows_imports_nothing_and_lists_them(
    ctx: Context, console: Console
) -> None:
    console.log_in(SECRETARIAT)
    before = snapshot(ctx)
    text = (FIXTURES / "members.csv").read_text(encoding="utf-8")
    bad_rows = [
        "No Email,,Somewhere,Advisory Group,en,Europe/Paris",
        "Bad Zone,z@example.org,,G,en,Mars/Base",
    ]
    broken = text + "\n".join(bad_rows) + "\n"
    refused = upload(console, "members.csv", broken.encode())
    assert refused.status_code == 400
    assert "Nothing was imported: every bad row is listed below." in refused.text
    assert refused.text.count("<li>members.csv: ") == 2
    assert snapshot(ctx) == before

    queued = upload(console, "members.csv", text.encode())
    assert queued.status_code == 303
    done = finished_job(console, queued.headers["location"])
    assert "7 created, 0 updated, 0 unchanged" in done and "7 of 7" in done
    found = console.http.get("/console/members", params={"search": "BRADFORD"}).text
    assert "Barry Cusack" in found and "1 members" in found
    in_group = console.http.get("/console/members", params={"group": "RECI"}).text
    assert "Gemma Pinyol-Jiménez" in in_group and "Barry Cusack" not in in_group
    unknown = console.http.get("/console/members", params={"group": "Nobody"})
    assert unknown.status_code == 400 and 'id="group-error"' in unknown.text


def test_groups_and_kinds_are_configured_from_forms(ctx: Context, console: Console) -> None:
    from accord.services.members import import_members

    import_members(ctx, FIXTURES / "members.csv")
    console.log_in(SECRETARIAT)
    kinds = [kind.name for kind in list_kinds(ctx)]
    accepted = [k for k in kinds if k != "awareness-day"]
    form = {"name": "Advisory Group", "political": "true", "accepts": accepted}
    assert (
        console.post("/console/groups/configure", form, page="/console/groups").status_code == 303
    )
    group = next(g for g in list_groups(ctx) if g.name == "Advisory Group")
    assert group.accepts_political and group.refused_kinds == ["awareness-day"]

    empty = console.post(
        "/console/kinds", {"name": "awareness-day", "meaning": " "}, page="/console/groups"
    )
    assert 'id="meaning-awareness-day-error">Say what endorsing this kind means.' in empty.text
    new = {"name": "joint-letter", "meaning": "You co-sign a letter to a minister."}
    assert console.post("/console/kinds", new, page="/console/groups").status_code == 303
    assert named(ctx, "joint-letter") == Kind("joint-letter", "You co-sign a letter to a minister.")


def named(ctx: Context, name: str) -> Kind:
    return next(kind for kind in list_kinds(ctx) if kind.name == name)


def test_both_meanings_of_a_kind_are_edited_and_bad_input_changes_nothing(
    ctx: Context, console: Console
) -> None:
    console.log_in(SECRETARIAT)
    page = console.http.get("/console/groups").text
    assert '<label for="meaning-fr-position">' in page and 'id="meaning-fr-position"' in page
    assert DEFAULT_KINDS["position"].meaning_fr in page
    french = {
        "name": "position",
        "meaning": "You stand behind this position.",
        "meaning_fr": "Vous soutenez cette position.",
    }
    assert console.post("/console/kinds", french, page="/console/groups").status_code == 303
    assert named(ctx, "position") == Kind("position", *list(french.values())[1:])
    with ctx.uow(readonly=True) as uow:
        entry = uow.audit.entries("kind", "position")[-1]
    assert entry.channel == "console"
    assert json.loads(entry.payload)["meaning_fr"] == french["meaning_fr"]

    before = snapshot(ctx)
    too_long = {**french, "meaning_fr": "x" * 301}
    refused = console.post("/console/kinds", too_long, page="/console/groups")
    assert refused.status_code == 400
    assert (
        'id="meaning-fr-position-error">the French meaning is over 300 characters' in refused.text
    )
    assert 'aria-describedby="meaning-fr-position-error"' in refused.text
    assert snapshot(ctx) == before
    cleared = {**french, "meaning_fr": " "}  # empty: French members read the English
    assert console.post("/console/kinds", cleared, page="/console/groups").status_code == 303
    assert named(ctx, "position").meaning_fr is None


def test_the_record_is_browsed_filtered_and_verified(ctx: Context, console: Console) -> None:
    from accord.services.members import import_members

    import_members(ctx, FIXTURES / "members.csv")
    console.log_in(SECRETARIAT)
    page = console.http.get("/console/record").text
    assert "members.csv" in page and "user 1" in page
    users_only = console.http.get("/console/record", params={"entity_type": "user"}).text
    assert "members.csv" not in users_only and "user 2" in users_only
    verified = console.http.get("/console/record/verify").text
    assert "The chain holds: 3 entries" in verified
