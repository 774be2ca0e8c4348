"""Typed service results become the JSON the contract gives, in one place."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from accord.services.results import NOT_IN_JSON, plain


@dataclass(frozen=True)
class Line:
    member: str
    at: datetime


@dataclass(frozen=True)
class Report:
    round_id: int
    lines: tuple[Line, ...]
    counts: dict[str, int]
    deadline: datetime | None = field(default=None, metadata=NOT_IN_JSON)


def test_dataclasses_become_dicts_by_field_name_recursively() -> None:
    at = datetime(2026, 12, 7, tzinfo=UTC)
    report = Report(round_id=3, lines=(Line("ana", at),), counts={"endorse": 1}, deadline=at)
    assert plain(report) == {
        "round_id": 3,
        "lines": [{"member": "ana", "at": at}],
        "counts": {"endorse": 1},
    }


def test_plain_values_pass_through() -> None:
    assert plain({"a": [1, (2, "x")], "b": None}) == {"a": [1, [2, "x"]], "b": None}
