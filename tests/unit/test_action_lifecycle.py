"""Action lifecycle: every legal move with its side effects, every illegal one, every guard."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from statemachines.actions import ACTION_LIFECYCLE, STATES, Action, is_overdue
from statemachines.errors import GuardFailed, IllegalTransition

# Written out by hand, not derived from ACTION_LIFECYCLE, so the lifecycle is checked against it.
ALLOWED = {
    "proposed": {"assess", "drop", "reject"},
    "assessed": {"assess", "start", "drop", "reject"},
    "in_progress": {"complete", "drop"},
    "done": {"reopen"},
    "dropped": set(),
}
TRIGGERS = sorted(set().union(*ALLOWED.values()))


def action(state: str = "proposed", **attrs: object) -> Action:
    return Action(text="Publish the Advisory Group statement", state=state, **attrs)


def test_states_and_triggers_match_the_design() -> None:
    assert STATES == ("proposed", "assessed", "in_progress", "done", "dropped")
    assert ACTION_LIFECYCLE.triggers == frozenset(TRIGGERS)
    for state, triggers in ALLOWED.items():
        assert ACTION_LIFECYCLE.allowed(state) == sorted(triggers)


# (state, attributes, trigger, kwargs, destination, recorded side effects)
LEGAL = [
    ("proposed", {}, "assess", {"outcome": "accepted"}, "assessed", {"assessment": "accepted"}),
    (
        "proposed",
        {},
        "assess",
        {"outcome": "under_consideration"},
        "assessed",
        {"assessment": "under_consideration"},
    ),
    (
        "assessed",
        {"assessment": "under_consideration"},
        "assess",
        {"outcome": "accepted"},
        "assessed",
        {"assessment": "accepted"},
    ),
    ("assessed", {"assessment": "accepted"}, "start", {}, "in_progress", {}),
    ("in_progress", {}, "complete", {}, "done", {}),
    ("done", {}, "reopen", {}, "in_progress", {}),
    ("proposed", {}, "drop", {"reason": " obsolete "}, "dropped", {"drop_reason": "obsolete"}),
    ("assessed", {}, "drop", {"reason": "no budget"}, "dropped", {"drop_reason": "no budget"}),
    ("in_progress", {}, "drop", {"reason": "merged"}, "dropped", {"drop_reason": "merged"}),
    ("proposed", {}, "reject", {"reason": "off-topic"}, "dropped", {"drop_reason": "off-topic"}),
    ("assessed", {}, "reject", {"reason": "duplicate"}, "dropped", {"drop_reason": "duplicate"}),
]


@pytest.mark.parametrize(("state", "attrs", "trigger", "kwargs", "dest", "effects"), LEGAL)
def test_legal_transition(state, attrs, trigger, kwargs, dest, effects) -> None:
    item = action(state, **attrs)
    assert item.fire(trigger, **kwargs) == dest
    assert item.state == dest
    for name, value in effects.items():
        assert getattr(item, name) == value


def test_every_legal_transition_is_covered() -> None:
    covered = {(state, trigger) for state, _, trigger, *_ in LEGAL}
    assert covered == {(s, t) for s, triggers in ALLOWED.items() for t in triggers}


def test_full_path_with_reopen() -> None:
    item = action()
    for trigger, kwargs in [
        ("assess", {"outcome": "accepted"}),
        ("start", {}),
        ("complete", {}),
        ("reopen", {}),
        ("complete", {}),
    ]:
        item.fire(trigger, **kwargs)
    assert (item.state, item.assessment, item.drop_reason) == ("done", "accepted", None)


@pytest.mark.parametrize(
    ("state", "trigger"),
    [(s, t) for s in STATES for t in [*TRIGGERS, "explode"] if t not in ALLOWED[s]],
)
def test_illegal_transition(state: str, trigger: str) -> None:
    item = action(state, assessment="accepted")
    with pytest.raises(IllegalTransition) as caught:
        item.fire(trigger, outcome="accepted", reason="a reason")
    allowed_text = ", ".join(sorted(ALLOWED[state])) or "none"
    assert f"state '{state}'" in str(caught.value)
    assert f"allowed from '{state}': {allowed_text})" in str(caught.value)
    assert caught.value.state == state
    assert caught.value.allowed == sorted(ALLOWED[state])
    assert item.state == state


@pytest.mark.parametrize(
    ("state", "attrs", "trigger", "kwargs", "reason"),
    [
        ("proposed", {}, "assess", {}, "assess needs --outcome accepted or under_consideration"),
        ("proposed", {}, "assess", {"outcome": "maybe"}, "assess needs --outcome"),
        ("assessed", {"assessment": "accepted"}, "assess", {"outcome": None}, "assess needs"),
        ("assessed", {}, "start", {}, "only an action assessed as accepted can start"),
        ("assessed", {"assessment": "under_consideration"}, "start", {}, "assessed as accepted"),
        ("proposed", {}, "drop", {}, "drop needs a reason"),
        ("assessed", {}, "drop", {"reason": "   "}, "drop needs a reason"),
        ("in_progress", {}, "drop", {"reason": None}, "drop needs a reason"),
        ("proposed", {}, "reject", {"reason": ""}, "reject needs a reason"),
        ("assessed", {}, "reject", {}, "reject needs a reason"),
    ],
)
def test_guard_refuses_with_its_reason(state, attrs, trigger, kwargs, reason) -> None:
    item = action(state, **attrs)
    before = dict(vars(item))
    with pytest.raises(GuardFailed, match=reason):
        item.fire(trigger, **kwargs)
    assert vars(item) == before


def test_lifecycle_fire_returns_the_new_state() -> None:
    item = action()
    assert ACTION_LIFECYCLE.fire(item, "assess", outcome="accepted") == "assessed"


TODAY = date(2023, 10, 1)


@pytest.mark.parametrize(
    ("state", "due", "overdue"),
    [
        ("proposed", None, False),
        ("proposed", date(2023, 10, 2), False),
        ("proposed", TODAY, False),
        ("proposed", date(2023, 9, 30), True),
        ("assessed", date(2023, 9, 30), True),
        ("in_progress", date(2023, 1, 1), True),
        ("done", date(2023, 9, 30), False),
        ("dropped", date(2023, 9, 30), False),
    ],
)
def test_overdue_is_computed(state: str, due: date | None, overdue: bool) -> None:
    assert is_overdue(state, due, TODAY) is overdue
    assert is_overdue(state, due, datetime(2023, 10, 1, 9, 0, tzinfo=UTC)) is overdue
    assert action(state, due_on=due).is_overdue(TODAY) is overdue


def test_reopening_a_past_due_action_makes_it_overdue_again() -> None:
    item = action("done", due_on=date(2023, 9, 1))
    assert not item.is_overdue(TODAY)
    item.fire("reopen")
    assert item.is_overdue(TODAY)
