"""Reports of other bodies and layouts (tests/fixtures/reports): each imports exactly as the
.json beside it says (meeting, and each action's text, due date, bodies, objective, state).

The .docx and .pdf reports are made by tests/fixtures/reports/make_fixtures.py.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from accord.services.reports import ImportOptions, import_report
from accord.services.results import plain

CORPUS = Path(__file__).parents[1] / "fixtures" / "reports"
REPORTS = sorted(
    path
    for path in CORPUS.iterdir()
    if path.suffix != ".json" and path.with_suffix(".json").exists()
)


def _options(given: dict[str, Any]) -> ImportOptions:
    return ImportOptions(
        partial=given.get("partial", False),
        meeting_date=date.fromisoformat(given["meeting_date"]) if "meeting_date" in given else None,
    )


def _as_expected(action: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """The imported action in the expected file's terms, with only the keys it gives."""
    objective = action["objective"]
    timeframe = action["timeframe"]
    found = {
        "text": action["text"],
        "due": timeframe["due"],
        "bodies": [body["name"] for body in action["responsible"]],
        "objective": [objective["number"], objective["title"]] if objective["number"] else None,
        "state": action["state"],
        "note": action["last_note"],
        "unparsed": timeframe["unparsed"],
        "milestones": [milestone["due"] for milestone in timeframe["milestones"]],
    }
    return {key: found[key] for key in expected}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("report", REPORTS, ids=lambda path: path.name)
def test_each_report_imports_as_its_json_says(ctx: Any, report: Path) -> None:
    expected = json.loads(report.with_suffix(".json").read_text(encoding="utf-8"))
    result = plain(import_report(ctx, report, _options(expected.get("options", {}))))
    meeting = result["meeting"]
    assert {key: meeting[key] for key in expected["meeting"]} == expected["meeting"]
    defaults = {"state": "proposed", "unparsed": False}
    got = [
        _as_expected(action, {**defaults, **want})
        for action, want in zip(result["actions"], expected["actions"], strict=False)
    ]
    assert got == [{**defaults, **want} for want in expected["actions"]]
    assert len(result["actions"]) == len(expected["actions"])
    assert result["skipped"] == expected.get("not_imported", [])


def test_the_corpus_covers_every_format() -> None:
    assert len(REPORTS) >= 12
    assert {path.suffix for path in REPORTS} == {".txt", ".md", ".docx", ".pdf"}
