"""`accord init`, `members import|list` and `audit verify` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.cli import accord, run
from tests.conftest import FIXTURES

MEMBERS = FIXTURES / "members.csv"
HEADER = "name,email,organisation,groups,language,timezone\n"


def _count_members() -> int:
    return len(json.loads(run("members", "list", "--json").stdout))


def test_init_creates_then_reports_up_to_date(accord_env: dict[str, str], tmp_path: Path) -> None:
    env = {**accord_env, "ACCORD_DATABASE_URL": f"sqlite:///{tmp_path}/fresh/accord.db"}
    first = accord("init", env=env)
    assert first.code == 0 and "created" in first.stdout
    again = accord("init", env=env)
    assert again.code == 0 and "up to date" in again.stdout
    assert (Path(env["ACCORD_HOME"]) / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_command_before_init_says_so_and_creates_nothing(tmp_path: Path) -> None:
    env = {"ACCORD_HOME": str(tmp_path / "nothing")}
    run = accord("members", "list", env=env)
    assert run.code == 1
    assert run.stderr.strip().endswith("run `accord init` first")
    assert not (tmp_path / "nothing").exists()


def test_import_then_list_then_reimport_updates_by_email(ctx: object, tmp_path: Path) -> None:
    first = run("members", "import", MEMBERS, "--json")
    assert first.code == 0, first.stderr
    assert json.loads(first.stdout).items() >= {"created": 7, "updated": 0, "unchanged": 0}.items()
    members = json.loads(run("members", "list", "--json").stdout)
    gemma = next(m for m in members if m["email"] == "gemma.pinyol@example.org")
    assert gemma["groups"] == ["Advisory Group", "RECI"] and gemma["timezone"] == "Europe/Madrid"

    changed = tmp_path / "changed.csv"
    changed.write_text(
        HEADER + "Gemma Pinyol,GEMMA.PINYOL@example.org,RECI,RECI,ca,Europe/Madrid\n",
        encoding="utf-8",
    )
    again = run("members", "import", changed, "--json")
    assert json.loads(again.stdout)["changes"] == [
        {
            "email": "gemma.pinyol@example.org",
            "created": False,
            "fields": ["name", "organisation", "language"],
            "joined": [],
            "left": ["Advisory Group"],
        }
    ]
    members = json.loads(run("members", "list", "--json").stdout)
    gemma = next(m for m in members if m["email"] == "gemma.pinyol@example.org")
    assert (gemma["name"], gemma["groups"], gemma["language"]) == ("Gemma Pinyol", ["RECI"], "ca")
    assert len(members) == 7


BAD_ROWS = {
    "bad-email": ("X,not-an-email,,,en,Europe/Paris", "line 3: invalid email 'not-an-email'"),
    "no-email": ("X,,,,en,Europe/Paris", "line 3: email is empty"),
    "no-name": (",x@example.org,,,en,Europe/Paris", "line 3: name is empty"),
    "bad-timezone": (
        "X,x@example.org,,,en,Mars/Olympus",
        "line 3: unknown time zone 'Mars/Olympus'",
    ),
    "bad-language": ("X,x@example.org,,,xx,Europe/Paris", "line 3: unknown language code 'xx'"),
    "extra-field": ("X,x@example.org,,,en,Europe/Paris,surprise", "line 3: too many fields"),
    "duplicate": ("B,barry@example.org,,,en,Europe/Paris", "line 3: barry@example.org is already"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_any_bad_row_names_its_line_and_imports_nothing(
    case: str, ctx: object, tmp_path: Path
) -> None:
    row, message = BAD_ROWS[case]
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(
        HEADER + "Barry,barry@example.org,,,en,Europe/London\n" + row + "\n", encoding="utf-8"
    )
    result = run("members", "import", csv_file)
    assert result.code == 1
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and result.stdout == ""
    assert _count_members() == 0
    assert json.loads(run("audit", "verify", "--json").stdout)["entries"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02binary", "not a text file"),
        (b"\xff\xfe\xfa", "not a UTF-8 text file"),
        (b"who,what\nx,y\n", "missing column(s) name, email"),
        (HEADER.encode(), "no member rows"),
    ],
    ids=["empty", "binary", "not-utf8", "wrong-header", "header-only"],
)
def test_an_unreadable_member_file_is_refused(
    content: bytes, message: str, ctx: object, tmp_path: Path
) -> None:
    csv_file = tmp_path / "m.csv"
    csv_file.write_bytes(content)
    result = run("members", "import", csv_file)
    assert result.code == 1 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _count_members() == 0


def test_a_missing_file_is_one_line(ctx: object, tmp_path: Path) -> None:
    result = run("members", "import", tmp_path / "nope.csv")
    assert result.code == 1 and result.stderr.startswith("error: cannot read")


def test_audit_verify_names_the_first_bad_entry(ctx: object, accord_env: dict[str, str]) -> None:
    run("members", "import", MEMBERS)
    run("members", "import", MEMBERS)
    ok = accord("audit", "verify", "--json", env=accord_env)
    assert ok.code == 0 and json.loads(ok.stdout) == {"entries": 2, "ok": True, "first_bad": None}
    engine = create_engine(accord_env["ACCORD_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'intruder' WHERE seq = 1"))
    engine.dispose()
    bad = run("audit", "verify", "--json")
    assert bad.code == 1
    result = json.loads(bad.stdout)
    assert result["ok"] is False and result["first_bad"]["seq"] == 1
    human = run("audit", "verify")
    assert human.code == 1 and "BROKEN at entry 1" in human.stderr


def test_production_refuses_to_start_without_a_secret_key(accord_env: dict[str, str]) -> None:
    run = accord("init", env={**accord_env, "ACCORD_ENV": "production"})
    assert run.code == 1
    assert (
        run.stderr == "error: bad setting: ACCORD_SECRET_KEY must be set when "
        "ACCORD_ENV=production\n"
    )


def test_the_console_script_imports_members(accord_env: dict[str, str]) -> None:
    assert accord("init", env=accord_env).code == 0
    done = accord("members", "import", MEMBERS, env=accord_env)
    assert done.code == 0 and done.stdout.endswith("\n7 created, 0 updated, 0 unchanged\n")
