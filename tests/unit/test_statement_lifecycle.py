"""Statement lifecycle: transitions, the circulation guard, text fingerprints and versions."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statemachines.errors import GuardFailed, IllegalTransition
from statemachines.statements import (
    STATEMENT_LIFECYCLE,
    STATES,
    GroupPolicy,
    Statement,
    circulation_problem,
    text_sha256,
)

NOW = datetime(2023, 10, 1, 9, 0, tzinfo=UTC)
KINDS = {"awareness-day", "programme-news", "position"}
AG = GroupPolicy("AG", refused_kinds=frozenset({"programme-news"}))
OPEN_GROUP = GroupPolicy("Coordinators", accepts_political=True)

ALLOWED = {
    "draft": {"circulate", "revise", "withdraw"},
    "circulated": {"revise", "close", "withdraw"},
    "endorsed": {"publish", "withdraw"},
    "not_endorsed": {"revise", "withdraw"},
    "published": {"withdraw"},
    "withdrawn": set(),
}
TRIGGERS = sorted(set().union(*ALLOWED.values()))


def statement(state: str = "draft", kind: str = "awareness-day", political: bool = False):
    item = Statement(title="World Day for Cultural Diversity", kind=kind, political=political)
    item.state = state
    return item


def circulation(**overrides: object) -> dict[str, object]:
    kwargs = {
        "group": AG,
        "deadline": NOW + timedelta(days=7),
        "now": NOW,
        "recipients": 12,
        "known_kinds": KINDS,
    }
    return kwargs | overrides


def test_states_and_triggers_match_the_design() -> None:
    assert STATES == ("draft", "circulated", "endorsed", "not_endorsed", "published", "withdrawn")
    assert STATEMENT_LIFECYCLE.triggers == frozenset(TRIGGERS)
    for state, triggers in ALLOWED.items():
        assert STATEMENT_LIFECYCLE.allowed(state) == sorted(triggers)


WITHDRAWABLE = ["draft", "circulated", "endorsed", "not_endorsed", "published"]
LEGAL = [
    ("draft", "circulate", circulation(), "circulated"),
    ("draft", "revise", {}, "draft"),
    ("circulated", "revise", {}, "circulated"),
    ("not_endorsed", "revise", {}, "draft"),
    ("circulated", "close", {"outcome": "endorsed"}, "endorsed"),
    ("circulated", "close", {"outcome": "not_endorsed"}, "not_endorsed"),
    ("endorsed", "publish", {}, "published"),
    *[(state, "withdraw", {"reason": "superseded"}, "withdrawn") for state in WITHDRAWABLE],
]


@pytest.mark.parametrize(("state", "trigger", "kwargs", "dest"), LEGAL)
def test_legal_transition(state: str, trigger: str, kwargs: dict, dest: str) -> None:
    item = statement(state)
    assert item.fire(trigger, **kwargs) == dest
    assert item.state == dest


def test_every_legal_transition_is_covered() -> None:
    covered = {(state, trigger) for state, trigger, _, _ in LEGAL}
    assert covered == {(s, t) for s, triggers in ALLOWED.items() for t in triggers}


@pytest.mark.parametrize("state", WITHDRAWABLE)
def test_withdraw_records_the_reason(state: str) -> None:
    item = statement(state)
    item.fire("withdraw", reason="  overtaken by events \n")
    assert item.withdraw_reason == "overtaken by events"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_withdraw_needs_a_reason(reason: str | None) -> None:
    item = statement("endorsed")
    with pytest.raises(GuardFailed, match="withdraw needs a reason"):
        item.fire("withdraw", reason=reason)
    assert (item.state, item.withdraw_reason) == ("endorsed", None)


@pytest.mark.parametrize("outcome", [None, "consulted", "maybe"])
def test_close_needs_endorsed_or_not_endorsed(outcome: str | None) -> None:
    item = statement("circulated")
    with pytest.raises(GuardFailed, match="cannot close statement in state 'circulated'"):
        item.fire("close", outcome=outcome)
    assert item.state == "circulated"


@pytest.mark.parametrize(
    ("state", "trigger"),
    [(s, t) for s in STATES for t in [*TRIGGERS, "explode"] if t not in ALLOWED[s]],
)
def test_illegal_transition(state: str, trigger: str) -> None:
    item = statement(state)
    kwargs = circulation(outcome="endorsed", reason="a reason")
    with pytest.raises(IllegalTransition) as caught:
        item.fire(trigger, **kwargs)
    allowed_text = ", ".join(sorted(ALLOWED[state])) or "none"
    assert f"state '{state}'" in str(caught.value)
    assert f"allowed from '{state}': {allowed_text})" in str(caught.value)
    assert (caught.value.state, caught.value.allowed) == (state, sorted(ALLOWED[state]))
    assert item.state == state


# (statement kind, political, circulation overrides, the reason given)
PROBLEMS = [
    ("", False, {}, "the statement declares no kind"),
    (None, False, {}, "the statement declares no kind"),
    (
        "petition",
        False,
        {},
        "unknown kind 'petition' (known: awareness-day, position, programme-news)",
    ),
    ("programme-news", False, {}, "group 'AG' refuses statements of kind 'programme-news'"),
    ("position", True, {}, "group 'AG' does not accept political statements"),
    (
        "awareness-day",
        False,
        {"deadline": NOW},
        "the deadline 2023-10-01T09:00:00+00:00 is not in the future",
    ),
    ("awareness-day", False, {"deadline": NOW - timedelta(days=1)}, "is not in the future"),
    ("awareness-day", False, {"recipients": 0}, "group 'AG' has no deliverable recipient"),
]


@pytest.mark.parametrize(("kind", "political", "overrides", "reason"), PROBLEMS)
def test_circulation_problem(kind, political, overrides, reason) -> None:
    problem = circulation_problem(kind=kind, political=political, **circulation(**overrides))
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(("kind", "political", "overrides", "reason"), PROBLEMS)
def test_circulate_is_refused_with_the_problem(kind, political, overrides, reason) -> None:
    item = statement(kind=kind, political=political)
    with pytest.raises(GuardFailed, match=r"^cannot circulate: ") as caught:
        item.fire("circulate", **circulation(**overrides))
    assert reason in str(caught.value)
    assert item.state == "draft"


def test_political_statement_goes_to_a_group_that_accepts_political() -> None:
    item = statement(kind="position", political=True)
    assert item.fire("circulate", **circulation(group=OPEN_GROUP)) == "circulated"


def test_the_first_problem_is_reported() -> None:
    problem = circulation_problem(
        kind="programme-news", political=True, **circulation(deadline=NOW, recipients=0)
    )
    assert problem == "group 'AG' refuses statements of kind 'programme-news'"


def test_no_problem_when_everything_holds() -> None:
    assert circulation_problem(kind="position", political=False, **circulation()) is None


def test_text_sha256_is_sha256_of_utf8() -> None:
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert text_sha256("abc") == expected
    assert text_sha256("Déclaration") == hashlib.sha256("Déclaration".encode()).hexdigest()


def test_text_sha256_normalises_line_endings_and_unicode() -> None:
    assert text_sha256("a\r\nb\rc\n") == text_sha256("a\nb\nc\n")
    assert text_sha256(unicodedata.normalize("NFD", "Déclaration")) == text_sha256("Déclaration")
    assert text_sha256("a b") != text_sha256("a  b")


# Text that can be stored and mailed: no lone surrogates (they have no UTF-8 encoding).
line = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"))


@given(st.lists(line, max_size=5))
def test_text_sha256_ignores_the_line_ending_style(lines: list[str]) -> None:
    assert text_sha256("\r\n".join(lines)) == text_sha256("\n".join(lines))


def test_versions_are_numbered_and_fingerprinted() -> None:
    item = statement()
    first = item.add_version("First text.", at=NOW)
    second = item.add_version("Second text.")
    assert [v.number for v in item.versions] == [1, 2]
    assert item.current is second
    assert (first.sha256, first.created_at) == (text_sha256("First text."), NOW)
    assert second.sha256 != first.sha256


def test_revising_a_circulated_statement_keeps_it_circulated_with_a_new_version() -> None:
    item = statement()
    item.add_version("v1")
    item.fire("circulate", **circulation())
    item.fire("revise")
    item.add_version("v2")
    assert (item.state, item.current.number, item.current.body) == ("circulated", 2, "v2")
