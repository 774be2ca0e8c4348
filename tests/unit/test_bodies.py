"""Splitting a "Responsible body" cell into lead and support bodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.reports.bodies import (
    DEFAULT_ALIASES,
    DEFAULT_CITIES,
    Responsible,
    split_responsible,
)
from accord.reports.parse import parse_report

SAMPLE = Path(__file__).parents[2] / "accord" / "samples" / "icc_advisory_group_2023-07.txt"


def split(cell: str) -> list[tuple[str, str]]:
    found = split_responsible(cell, known=DEFAULT_ALIASES, cities=DEFAULT_CITIES)
    return [(body.name, body.role) for body in found]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (
            "Bradford Stavanger Reykjavik With the support of ICC Secretariat",
            [
                ("Bradford", "lead"),
                ("Stavanger", "lead"),
                ("Reykjavik", "lead"),
                ("ICC Secretariat", "support"),
            ],
        ),
        ("Bradford and ICC Secretariat", [("Bradford", "lead"), ("ICC Secretariat", "lead")]),
        (
            "ICC Secretariat and Advisory Group",
            [("ICC Secretariat", "lead"), ("Advisory Group", "lead")],
        ),
        ("Members of the Advisory Group", [("Advisory Group", "lead")]),
        ("ICC Spanish network", [("RECI", "lead")]),
        ("ICC Secretariat + RECI", [("ICC Secretariat", "lead"), ("RECI", "lead")]),
        ("", []),
        ("  \t ", []),
    ],
)
def test_brief_examples(cell: str, expected: list[tuple[str, str]]) -> None:
    assert split(cell) == expected


def test_returns_responsible_values() -> None:
    assert split_responsible("RECI", known=DEFAULT_ALIASES, cities=DEFAULT_CITIES) == [
        Responsible("RECI", "lead")
    ]


def test_a_run_of_cities_after_an_unknown_body() -> None:
    assert split("ICC members Bradford Stavanger") == [
        ("ICC members", "lead"),
        ("Bradford", "lead"),
        ("Stavanger", "lead"),
    ]


def test_everything_after_with_the_support_of_is_support() -> None:
    assert split("Bradford with the support of ICC Secretariat, RECI and Stavanger") == [
        ("Bradford", "lead"),
        ("ICC Secretariat", "support"),
        ("RECI", "support"),
        ("Stavanger", "support"),
    ]


def test_oxford_comma() -> None:
    assert split("Bradford, Stavanger, and Reykjavik") == [
        ("Bradford", "lead"),
        ("Stavanger", "lead"),
        ("Reykjavik", "lead"),
    ]


def test_and_inside_a_word_does_not_split() -> None:
    assert split("Andorra Sandbox") == [("Andorra Sandbox", "lead")]


def test_support_alone() -> None:
    assert split("With the support of RECI") == [("RECI", "support")]


def test_aliases_and_cities_ignore_case_and_spacing() -> None:
    assert split("icc  SECRETARIAT, the ICC Spanish Network, san sebastian") == [
        ("ICC Secretariat", "lead"),
        ("RECI", "lead"),
        ("San Sebastian", "lead"),
    ]


def test_city_of_prefix_belongs_to_the_city() -> None:
    assert split("The city of Bradford") == [("Bradford", "lead")]


def test_unknown_names_are_kept_trimmed() -> None:
    assert split(" Mayor's office ;  Youth Council. ") == [
        ("Mayor's office", "lead"),
        ("Youth Council", "lead"),
    ]


def test_first_role_wins_for_duplicates() -> None:
    assert split("ICC Secretariat and RECI with the support of icc secretariat, Reci") == [
        ("ICC Secretariat", "lead"),
        ("RECI", "lead"),
    ]


def test_unknown_duplicates_differing_in_case_count_once() -> None:
    assert split("Youth Council, youth council") == [("Youth Council", "lead")]


def test_brackets_left_by_the_support_split_are_dropped() -> None:
    assert split("ICC Secretariat (with the support of RECI)") == [
        ("ICC Secretariat", "lead"),
        ("RECI", "support"),
    ]


def test_a_known_alias_with_and_or_a_city_in_it_is_kept_whole() -> None:
    known = {"bosnia and herzegovina network": "BiH network", "bradford for everyone": "BFE"}
    found = split_responsible(
        "Bosnia and Herzegovina network, Bradford for everyone", known=known, cities=["Bradford"]
    )
    assert found == [Responsible("BiH network", "lead"), Responsible("BFE", "lead")]


def test_aliases_given_in_any_case_and_no_cities() -> None:
    found = split_responsible("icc secretariat Bradford", known={"ICC Secretariat": "S"}, cities=())
    assert found == [Responsible("icc secretariat Bradford", "lead")]
    assert split_responsible("ICC SECRETARIAT", known={"ICC Secretariat": "S"}, cities=()) == [
        Responsible("S", "lead")
    ]


def test_every_responsible_cell_of_the_sample_resolves() -> None:
    report = parse_report(SAMPLE)
    cells = {
        cell
        for objective in report.objectives
        for action in objective.actions
        for cell in (action.responsible, *(who for _, who in action.milestones))
    }
    names = {name for cell in cells for name, _ in split(cell)}
    assert names == {
        "ICC Secretariat",
        "Advisory Group",
        "RECI",
        "Bradford",
        "Stavanger",
        "Reykjavik",
        "ICC members",
    }
