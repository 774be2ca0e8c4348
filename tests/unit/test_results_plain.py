"""Typed service results become the JSON the contract gives, in one place."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from accord.services.results import INLINE_IN_JSON, NOT_IN_JSON, NOT_IN_JSON_IF_NONE, plain


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


@dataclass(frozen=True)
class Revision:
    line: Line = field(metadata=INLINE_IN_JSON)
    counts: dict[str, int] = field(metadata=INLINE_IN_JSON)
    reasked: int
    mail: dict[str, int] | None = field(default=None, metadata=NOT_IN_JSON_IF_NONE)


def test_inline_fields_lend_their_keys_and_optional_ones_show_only_when_set() -> None:
    at = datetime(2026, 12, 7, tzinfo=UTC)
    revision = Revision(Line("ana", at), {"stale": 2}, reasked=3)
    assert plain(revision) == {"member": "ana", "at": at, "stale": 2, "reasked": 3}
    sent = Revision(Line("ana", at), {}, reasked=0, mail={"sent": 1})
    assert list(plain(sent)) == ["member", "at", "reasked", "mail"]
