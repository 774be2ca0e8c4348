"""A members file changes only what it says (issue 17, item 2), says what it changed (and, with
`--dry-run`, what it would change), and a file accord cannot read is refused with a message the
user can act on (item 10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.services.context import Context
from tests.cli import run
from tests.conftest import FIXTURES

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
BARRY = "barry.cusack@example.org"


def ok(*args: object) -> str:
    done = run(*map(str, args))
    assert done.code == 0, done.stderr
    return done.stdout


def refused(*args: object) -> str:
    done = run(*map(str, args))
    assert done.code == 1, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.startswith("error: ")
    return done.stderr


def members(group: str | None = None) -> dict[str, dict]:
    args = ["members", "list", "--json", *(["--group", group] if group else [])]
    return {m["email"]: m for m in json.loads(ok(*args))}


def csv_file(tmp_path: Path, text: str, name: str = "m.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def imported(ctx: Context) -> dict[str, dict]:
    ok("members", "import", FIXTURES / "members.csv")
    return members()


def test_a_file_with_fewer_columns_keeps_what_it_does_not_name(
    imported: dict[str, dict], tmp_path: Path
) -> None:
    out = ok("members", "import", csv_file(tmp_path, f"name,email\nBarry J. Cusack,{BARRY}\n"))
    after = members()[BARRY]
    assert after["name"] == "Barry J. Cusack"
    before = imported[BARRY]
    for column in ("organisation", "groups", "language", "timezone"):
        assert after[column] == before[column], column
    assert BARRY in members("Advisory Group")
    assert "0 created, 1 updated, 0 unchanged" in out
    assert f"updated {BARRY}: name" in out


def test_only_a_present_column_with_an_empty_cell_clears_and_a_group_left_is_reported(
    imported: dict[str, dict], tmp_path: Path
) -> None:
    path = csv_file(tmp_path, f"name,email,organisation,groups\nBarry Cusack,{BARRY},,\n")
    out = ok("members", "import", path)
    after = members()[BARRY]
    assert after["organisation"] is None and after["groups"] == []
    assert after["timezone"] == "Europe/London"  # not in the file: kept
    assert f"updated {BARRY}: organisation; left Advisory Group" in out
    assert BARRY not in members("Advisory Group")


def test_dry_run_prints_what_would_change_and_changes_nothing(
    imported: dict[str, dict], tmp_path: Path
) -> None:
    entries = json.loads(ok("audit", "verify", "--json"))["entries"]
    path = csv_file(
        tmp_path,
        "name,email,groups,timezone\n"
        f"Barry Cusack,{BARRY},RECI,Europe/Dublin\n"
        "New Person,new.person@example.org,Advisory Group,\n",
    )
    out = ok("members", "import", "--dry-run", path)
    assert "would create new.person@example.org: joined Advisory Group" in out
    assert f"would update {BARRY}: timezone; joined RECI; left Advisory Group" in out
    assert "dry run: 1 created, 1 updated, 0 unchanged; nothing was written" in out
    assert members() == imported
    assert json.loads(ok("audit", "verify", "--json"))["entries"] == entries
    real = ok("members", "import", path)
    assert real.splitlines()[:2] == [
        f"updated {BARRY}: timezone; joined RECI; left Advisory Group",
        "created new.person@example.org: joined Advisory Group",
    ]
    assert members()[BARRY]["timezone"] == "Europe/Dublin"


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"name;email;organisation\nBarry;barry@example.org;Bradford\n",
            "separated by semicolons",
        ),
        (
            "name,email\nBarry,barry@example.org\n".encode("utf-16"),
            "save it as UTF-8",
        ),
        (
            b"name,email,groups,groups\nBarry,barry@example.org,A,B\n",
            "column 'groups' appears twice",
        ),
    ],
    ids=["semicolons", "utf-16", "duplicated-column"],
)
def test_a_file_accord_cannot_read_says_what_to_do(
    ctx: Context, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    error = refused("members", "import", path)
    assert message in error and len(error.splitlines()) == 1
    assert members() == {}


@SQLITE_ONLY
def test_after_twenty_bad_rows_the_rest_are_counted(ctx: Context, tmp_path: Path) -> None:
    lines = "".join(f"Member {n},not-an-address-{n}\n" for n in range(45))
    error = refused("members", "import", csv_file(tmp_path, "name,email\n" + lines))
    assert len(error.splitlines()) == 21
    assert error.splitlines()[-1] == "error: … and 25 more bad rows"
    assert members() == {}


@SQLITE_ONLY
def test_a_long_summary_shows_a_hundred_changes_and_counts_the_rest(
    ctx: Context, tmp_path: Path
) -> None:
    lines = "".join(f"Member {n},member{n}@example.org\n" for n in range(105))
    out = ok("members", "import", csv_file(tmp_path, "name,email\n" + lines)).splitlines()
    assert len(out) == 102 and out[-2] == "… and 5 more (--json lists every change)"
    assert out[-1] == "105 created, 0 updated, 0 unchanged"
