"""The rules an answer is recorded by (statemachines.answers) and how a round's close moves its
statement (statemachines.statements.state_after_round): pure functions."""

from __future__ import annotations

import pytest

from statemachines.answers import (
    ALL_DECISIONS,
    COMMENT_LIMIT,
    DECISIONS,
    clean_comment,
    comment_problem,
    is_political_decline,
)
from statemachines.rounds import Rule, Tally, close_outcome
from statemachines.statements import state_after_round


def test_every_decision_once_in_the_order_the_modes_list_them() -> None:
    assert DECISIONS["endorse"] == ("endorse", "decline", "abstain")
    assert ALL_DECISIONS == ("endorse", "decline", "abstain", "support", "concerns")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        (None, None),
        ("  \r\n ", None),
        ("one\r\ntwo\tthree\x00\x07", "one\ntwo\tthree"),
        (" Zoë ", "Zoë"),
    ],
)
def test_a_comment_is_kept_printable_with_its_line_breaks(
    sent: str | None, kept: str | None
) -> None:
    assert clean_comment(sent) == kept


def test_a_comment_over_the_limit_is_a_problem_that_states_the_limit() -> None:
    assert comment_problem(None) is None
    assert comment_problem("x" * COMMENT_LIMIT) is None
    assert comment_problem("x" * (COMMENT_LIMIT + 1)) == (
        "the comment is 5,001 characters long; the limit is 5,000 characters"
    )


@pytest.mark.parametrize(
    ("decision", "comment", "political"),
    [
        ("decline", "Political: not for us", True),
        ("decline", "not political", False),
        ("abstain", "political", False),
        ("decline", None, False),
    ],
)
def test_a_decline_for_political_reasons(
    decision: str, comment: str | None, political: bool
) -> None:
    assert is_political_decline(decision, comment) is political


def test_a_round_close_moves_only_a_circulated_statement_of_an_endorsement_round() -> None:
    assert state_after_round("circulated", "endorse", "endorsed") == "endorsed"
    assert state_after_round("circulated", "endorse", "not_endorsed") == "not_endorsed"
    assert state_after_round("circulated", "consult", "consulted") == "circulated"
    assert state_after_round("withdrawn", "endorse", "not_endorsed") == "withdrawn"


def test_a_withdrawn_round_is_never_endorsed() -> None:
    met = Tally(endorse=3)
    assert close_outcome(Rule("majority"), met, "endorse", "all_answered") == "endorsed"
    assert close_outcome(Rule("majority"), met, "endorse", "withdrawn") == "not_endorsed"
    assert close_outcome(Rule("majority"), met, "consult", "withdrawn") == "consulted"
