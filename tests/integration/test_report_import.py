"""`accord report import` on SQLite and PostgreSQL: the sample in three formats, re-import,
a later meeting, and every kind of bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from accord.services.reports import import_report
from storage import tables as t
from storage.repositories import MeetingRepository
from tests.cli import Run, accord, run
from tests.conftest import SAMPLE_REPORT
from tests.unit.test_report_parse import to_docx, to_markdown

SAMPLE_TEXT = SAMPLE_REPORT.read_text(encoding="utf-8")
CORPUS = Path(__file__).parents[1] / "fixtures" / "reports"
SECRETARIAT = [("ICC Secretariat", "lead")]
MONTH = "month"
PROPOSE = (
    "Propose questions to the Advisory Group by mid-October 2023; "
    "to be discussed at next Advisory Group meeting in November"
)

# Every action of the sample, in order: objective, the start of its timeframe cell,
# (start, end, due, precision), flags, milestones as (due, text), responsible bodies.
EXPECTED: list[tuple[int, str, tuple[Any, ...], dict[str, Any], list[Any], list[Any]]] = [
    (1, "September 2023", ("2023-09-01", "2023-09-30", "2023-09-30", MONTH), {}, [], SECRETARIAT),
    (
        1,
        "Possibility to be assessed by next meeting",
        ("2023-11-13", "2023-11-13", "2023-11-13", "day"),
        {"tentative": True, "meeting": "next meeting"},
        [],
        SECRETARIAT,
    ),
    (
        2,
        "End of September 2023",
        ("2023-09-01", "2023-09-30", "2023-09-30", "day"),
        {},
        [],
        [
            ("Bradford", "lead"),
            ("Stavanger", "lead"),
            ("Reykjavik", "lead"),
            ("ICC Secretariat", "support"),
        ],
    ),
    (
        2,
        "September 2023",
        ("2023-09-01", "2023-09-30", "2023-09-30", MONTH),
        {},
        [],
        [("ICC members", "lead"), ("Bradford", "lead"), ("Stavanger", "lead")],
    ),
    (
        2,
        "By next meeting (13 November 2023)",
        ("2023-11-13", "2023-11-13", "2023-11-13", "day"),
        {"meeting": "next meeting"},
        [],
        SECRETARIAT,
    ),
    (2, "January 2024", ("2024-01-01", "2024-01-31", "2024-01-31", MONTH), {}, [], SECRETARIAT),
    (2, "July 2024", ("2024-07-01", "2024-07-31", "2024-07-31", MONTH), {}, [], SECRETARIAT),
    (
        2,
        "To be taken into account for the planning of 2024",
        ("2024-01-01", "2024-12-31", "2024-12-31", "year"),
        {},
        [],
        SECRETARIAT,
    ),
    (2, "September 2023", ("2023-09-01", "2023-09-30", "2023-09-30", MONTH), {}, [], SECRETARIAT),
    (2, "November 2023", ("2023-11-01", "2023-11-30", "2023-11-30", MONTH), {}, [], SECRETARIAT),
    (
        2,
        "Mid-October 2023",
        ("2023-10-11", "2023-10-20", "2023-10-15", "mid-month"),
        {},
        [("2023-11-13", "13 November 2023")],  # the row with an empty action cell
        SECRETARIAT,
    ),
    (
        2,
        "Starting in January 2024 with the annual survey",
        ("2024-01-01", "2024-01-31", "2024-01-31", MONTH),
        {},
        [],
        SECRETARIAT,
    ),
    (2, "Ongoing – to be taken", (None, None, None, None), {"ongoing": True}, [], SECRETARIAT),
    (
        2,
        "Spring 2024 (tentative",
        ("2024-03-01", "2024-05-31", "2024-05-31", "season"),
        {"tentative": True},
        [],
        [("Bradford", "lead"), ("ICC Secretariat", "lead")],
    ),
    (
        3,
        "Website restructuring",
        ("2024-12-01", "2024-12-31", "2024-12-31", MONTH),
        {},
        [],
        SECRETARIAT,
    ),
    (
        3,
        "To be taken into account for the planning of 2024",
        ("2024-01-01", "2024-12-31", "2024-12-31", "year"),
        {},
        [],
        SECRETARIAT,
    ),
    (
        3,
        "Mid-September 2023",
        ("2023-09-11", "2023-09-20", "2023-09-15", "mid-month"),
        {},
        [],
        [("Advisory Group", "lead")],  # "Members of the Advisory Group"
    ),
    (
        3,
        "Starting in 2024 and repeating every year",
        ("2024-01-01", "2024-12-31", "2024-12-31", "year"),
        {"recurrence": "FREQ=YEARLY"},
        [],
        SECRETARIAT,
    ),
    (
        4,
        PROPOSE,
        ("2023-10-11", "2023-11-13", "2023-11-13", "day"),
        {"meeting": "next meeting"},
        [
            ("2023-10-15", "Propose questions to the Advisory Group"),
            ("2023-11-13", "to be discussed at next Advisory Group meeting"),
        ],
        SECRETARIAT,
    ),
    (
        4,
        "The ICC Spanish network - RECI -",
        ("2023-11-13", "2023-11-13", "2023-11-13", "day"),
        {"meeting": "next meeting"},
        [],
        [("RECI", "lead")],  # "ICC Spanish network"
    ),
    (
        6,
        "Ongoing",
        (None, None, None, None),
        {"ongoing": True},
        [],
        [("ICC Secretariat", "lead"), ("Advisory Group", "lead")],
    ),
]
NO_FLAGS = {"tentative": False, "ongoing": False, "recurrence": None, "meeting": None}
OVERDUE_ON_FIXED_NOW = [1, 3, 4, 9, 17]  # positions due before 2023-10-01


def table_counts(url: str) -> dict[str, int]:
    """Rows in every table, and the decision record's head, read with a plain engine."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            counts = {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in t.metadata.sorted_tables
            }
            counts["audit_head_seq"] = conn.execute(select(t.audit_head.c.seq)).scalar_one()
            return counts
    finally:
        engine.dispose()


def import_json(path: Path) -> dict[str, Any]:
    done = run("report", "import", path, "--json")
    assert done.code == 0, done.stderr
    return json.loads(done.stdout)


def report_file(fmt: str, folder: Path, text: str = SAMPLE_TEXT) -> Path:
    """The sample as .txt, or as .md and .docx built from it now."""
    path = folder / f"icc_advisory_group_2023-07.{fmt}"
    if fmt == "docx":
        return to_docx(text, path)
    path.write_text(to_markdown(text) if fmt == "md" else text, encoding="utf-8")
    return path


def one_line_error(done: Run) -> str:
    assert done.code == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def check_actions(actions: list[dict[str, Any]]) -> None:
    """Every action of the sample as EXPECTED says, and which are overdue on FIXED_NOW."""
    assert len(actions) == len(EXPECTED) == 21
    for action, (objective, raw, window, flags, milestones, bodies) in zip(
        actions, EXPECTED, strict=True
    ):
        timeframe = action["timeframe"]
        where = f"action {action['position']}: {timeframe['raw']}"
        assert action["objective"]["number"] == objective, where
        assert timeframe["raw"].startswith(raw), where
        assert (timeframe["start"], timeframe["end"], timeframe["due"], timeframe["precision"]) == (
            window
        ), where
        got_flags = {key: timeframe[key] for key in NO_FLAGS}
        assert got_flags == {**NO_FLAGS, **flags}, where
        assert [(m["due"], m["text"]) for m in timeframe["milestones"]] == milestones, where
        assert timeframe["unparsed"] is False, where
        assert [(r["name"], r["role"]) for r in action["responsible"]] == bodies, where
        assert action["state"] == "proposed" and action["occurrence"] == 1, where
    assert [a["position"] for a in actions if a["overdue"]] == OVERDUE_ON_FIXED_NOW


def check_meeting(result: dict[str, Any]) -> None:
    meeting = result["meeting"]
    assert meeting["title"] == (
        "Intercultural Cities (ICC) Advisory Group – First meeting – "
        "Summary report and follow up actions"
    )
    assert (meeting["date"], meeting["ends_on"], meeting["next_meeting"]) == (
        "2023-07-04",
        "2023-07-05",
        "2023-11-13",
    )
    assert meeting["place"] == "Strasbourg, France"
    assert meeting["body"] == "Intercultural Cities (ICC) Advisory Group"
    assert re.fullmatch(r"[0-9a-f]{64}", meeting["source_sha256"])
    assert [(o["number"], o["actions"]) for o in result["objectives"]] == [
        (1, 2),
        (2, 12),
        (3, 4),
        (4, 2),
        (6, 1),
    ]


def check_participants(participants: list[dict[str, Any]]) -> None:
    people = {p["name"]: p for p in participants}
    assert len(people) == 12
    assert (people["Barry Cusack"]["city"], people["Barry Cusack"]["body"]) == (
        "Bradford",
        "Bradford",
    )
    assert people["Gemma Pinyol-Jiménez"]["body"] == "RECI"
    assert people["Catherine Wolf"]["body"] == "ICC Secretariat"
    assert not any("@" in json.dumps(p) for p in participants)  # no email is invented


def check_bodies_and_record(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            bodies = dict(conn.execute(select(t.bodies.c.name, t.bodies.c.contact_emails)).all())
            aliases = dict(
                conn.execute(select(t.body_aliases.c.alias, t.bodies.c.name).join(t.bodies)).all()
            )
            audit = conn.execute(select(t.audit_log)).mappings().all()
    finally:
        engine.dispose()
    assert {"ICC Secretariat", "Advisory Group", "RECI", "ICC members", "Bradford"} <= set(bodies)
    assert {"Neuchâtel", "San Sebastian", "Salisbury"} <= set(bodies)  # participants' cities
    assert all(emails == [] for emails in bodies.values())
    assert aliases["icc spanish network"] == "RECI"
    assert aliases["members of the advisory group"] == "Advisory Group"
    assert [(e["entity_type"], e["action"], e["actor"], e["channel"]) for e in audit] == [
        ("meeting", "import", "secretariat", "cli")
    ]


def test_importing_the_sample_twice(ctx: Any) -> None:
    first = import_json(SAMPLE_REPORT)
    assert first["already_imported"] is False
    check_actions(first["actions"])
    check_meeting(first)
    check_participants(first["participants"])
    check_bodies_and_record(ctx.settings.db_url)
    before = table_counts(ctx.settings.db_url)
    assert before["actions"] == 21 and before["audit_log"] == 1

    again = import_json(SAMPLE_REPORT)
    assert again["already_imported"] is True
    assert table_counts(ctx.settings.db_url) == before
    assert {**again, "already_imported": False} == first
    plain = run("report", "import", SAMPLE_REPORT)
    assert plain.code == 0 and plain.stdout.startswith("already imported: meeting 1")
    assert table_counts(ctx.settings.db_url) == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("fmt", ["md", "docx"])
def test_markdown_and_word_forms_of_the_sample_import_the_same(
    fmt: str, accord_env: dict[str, str], tmp_path: Path
) -> None:
    result = import_json(report_file(fmt, tmp_path))
    check_actions(result["actions"])
    check_meeting(result)
    check_participants(result["participants"])


def test_a_later_report_of_the_same_body_adds_a_meeting(ctx: Any, tmp_path: Path) -> None:
    import_json(SAMPLE_REPORT)
    bodies = table_counts(ctx.settings.db_url)["bodies"]
    later = SAMPLE_TEXT.replace("4-5 July 2023 – Strasbourg", "13-14 November 2023 – Strasbourg")
    path = tmp_path / "second.txt"
    path.write_text(later, encoding="utf-8")
    second = import_json(path)
    assert second["already_imported"] is False
    assert (second["meeting"]["id"], second["meeting"]["date"]) == (2, "2023-11-13")
    counts = table_counts(ctx.settings.db_url)
    assert (counts["meetings"], counts["actions"], counts["audit_log"]) == (2, 42, 2)
    assert counts["bodies"] == bodies  # the same bodies, found again
    listed = json.loads(run("actions", "list", "--meeting", "2", "--json").stdout)
    assert [a["id"] for a in listed] == [a["id"] for a in second["actions"]]


def test_an_import_that_loses_a_race_finds_the_winners_meeting(
    ctx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two imports of one report at once: the loser's insert fails, and it retries once."""
    import_json(SAMPLE_REPORT)
    before = table_counts(ctx.settings.db_url)
    find = MeetingRepository.find
    missed: list[bool] = []

    def find_late(self: MeetingRepository, body: str, starts_on: Any) -> Any:
        if not missed:  # as if the other import had not committed yet
            missed.append(True)
            return None
        return find(self, body, starts_on)

    monkeypatch.setattr(MeetingRepository, "find", find_late)
    again = import_report(ctx, SAMPLE_REPORT)
    assert missed and again.already_imported
    assert table_counts(ctx.settings.db_url) == before


def test_unread_timeframes_are_kept_and_named(ctx: Any, tmp_path: Path) -> None:
    path = tmp_path / "unread.txt"
    path.write_text(
        SAMPLE_TEXT.replace("\tJuly 2024\t", "\tWhen the stars align\t"), encoding="utf-8"
    )
    done = run("report", "import", path)
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines()[1] == (
        "1 timeframe(s) kept as text, not read as dates: actions 7"
    )
    timeframe = json.loads(run("actions", "show", "7", "--json").stdout)["timeframe"]
    assert (timeframe["raw"], timeframe["unparsed"], timeframe["due"]) == (
        "When the stars align",
        True,
        None,
    )


def _bad_inputs(folder: Path) -> dict[str, tuple[Path, str]]:
    """name: (file, what its one-line reason says)."""
    files = {
        "empty": ("empty.txt", b"", "is empty"),
        "blank": ("blank.md", b"  \n\n\t\n", "is empty"),
        "binary": ("binary.txt", bytes(range(256)) * 4, "binary file"),
        "not utf-8": ("latin1.txt", "Réunion d'été".encode("latin-1"), "not UTF-8"),
        "no action table": (
            "notable.txt",
            SAMPLE_TEXT.split("Agreed action")[0].encode(),
            "no table of agreed actions found in notable.txt",
        ),
        "no meeting date": (
            "nodate.txt",
            SAMPLE_TEXT.replace("4-5 July 2023 – Strasbourg, France", "Strasbourg").encode(),
            "no meeting date found in nodate.txt: give it with --meeting-date YYYY-MM-DD",
        ),
        "no table in md": ("notable.md", b"# Title\n\nJust words.\n", "no table of agreed"),
        "broken docx": ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable .docx"),
        "unsupported suffix": ("report.doc", b"PK", "expected a .txt, .md, .docx or .pdf"),
        "broken pdf": ("report.pdf", b"%PDF-1.7 and nothing else", "not a readable PDF file"),
        "scanned pdf": (
            "scanned.pdf",
            (CORPUS / "scanned.pdf").read_bytes(),
            "scanned.pdf has no text layer (a scanned document?): run it through OCR first",
        ),
    }
    cases = {}
    for name, (file_name, data, reason) in files.items():
        path = folder / file_name
        path.write_bytes(data)
        cases[name] = (path, reason)
    no_table = to_docx(SAMPLE_TEXT.replace("\t", " "), folder / "notable.docx")
    cases["docx without a table"] = (no_table, "no table of agreed actions found")
    directory = folder / "folder.txt"
    directory.mkdir()
    cases["unreadable (a directory)"] = (directory, "cannot read folder.txt")
    cases["missing"] = (folder / "missing.txt", "cannot read missing.txt")
    return cases


def test_bad_input_exits_1_with_one_line_and_imports_nothing(ctx: Any, tmp_path: Path) -> None:
    import_json(SAMPLE_REPORT)
    before = table_counts(ctx.settings.db_url)
    for case, (path, reason) in _bad_inputs(tmp_path).items():
        line = one_line_error(run("report", "import", path, "--json"))
        assert reason in line, f"{case}: {line}"
    assert table_counts(ctx.settings.db_url) == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_import_as_a_user_runs_it(accord_env: dict[str, str], tmp_path: Path) -> None:
    first = accord("report", "import", SAMPLE_REPORT, "--json", env=accord_env)
    assert first.code == 0, first.stderr
    assert len(json.loads(first.stdout)["actions"]) == 21
    bad = accord("report", "import", "nothing.docx", env=accord_env)
    assert (bad.code, bad.stdout) == (1, "")
    assert bad.stderr == "error: cannot read nothing.docx: No such file or directory\n"
