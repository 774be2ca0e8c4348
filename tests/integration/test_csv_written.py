"""Every CSV accord writes neutralises cells a spreadsheet would run as a formula (issue 17,
item 11): today that is the demo's members file; accord reads such a cell back as it was."""

from __future__ import annotations

import csv
import io

import pytest

from accord.reports.parse import Participant
from accord.services.context import Context
from accord.services.csvfile import csv_text
from accord.services.demo import _import_members

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
FORMULAS = ['=HYPERLINK("http://evil")', "+1+2", "-3+4", "@SUM(A1)", "\t=1"]


def test_cells_that_start_a_formula_are_written_as_text() -> None:
    text = csv_text([["name", "note"], *[[f, "plain"] for f in FORMULAS], ["ok", "-"]])
    cells = [row[0] for row in csv.reader(io.StringIO(text, newline=""))][1:]
    assert all(cell.startswith("'") for cell in cells[:-1]), cells
    assert cells[-1] == "ok" and "plain" in text
    assert [c[1:] for c in cells[:-1]] == FORMULAS


@SQLITE_ONLY
def test_the_demo_members_file_is_neutralised_and_read_back_as_it_was(ctx: Context) -> None:
    mallory = Participant("=1+2 Mallory", None, "@City", None, None, "Advisory Group members")
    _import_members(ctx, [mallory])
    written = (ctx.settings.home / "demo" / "members.csv").read_text(encoding="utf-8")
    assert "'=1+2 Mallory" in written and "'@City" in written
    with ctx.uow(readonly=True) as uow:
        (member,) = uow.members.list()
    assert (member.name, member.organisation) == ("=1+2 Mallory", "@City")
