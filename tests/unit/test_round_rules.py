"""Round rules, tallies, outcomes, when a round closes, and the round lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from statemachines.errors import GuardFailed, IllegalTransition, InvalidInput
from statemachines.rounds import (
    ABSTAIN,
    CLOSE_REASONS,
    CONSULTED,
    DECLINE,
    ENDORSE,
    ENDORSED,
    NOT_ENDORSED,
    ROUND_LIFECYCLE,
    Round,
    Rule,
    Tally,
    can_still_be_met,
    close_reason,
    is_met,
    outcome,
    parse_rule,
    rule_text,
    tally,
)

NOW = datetime(2023, 10, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)
UNANIMOUS, MAJORITY = Rule("unanimous"), Rule("majority")


def counts(endorse: int = 0, decline: int = 0, abstain: int = 0, pending: int = 0) -> Tally:
    return Tally(endorse, decline, abstain, pending)


# --- parse_rule -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("unanimous", UNANIMOUS),
        (" Majority ", MAJORITY),
        ("min:1", Rule("min", 1)),
        ("MIN:3", Rule("min", 3)),
        ("min:007", Rule("min", 7)),
        ("min:999999", Rule("min", 999999)),
    ],
)
def test_parse_rule(text: str, rule: Rule) -> None:
    assert parse_rule(text) == rule


@pytest.mark.parametrize("text", ["unanimous", "majority", "min:1", "min:12"])
def test_rule_round_trips_through_str(text: str) -> None:
    assert str(parse_rule(text)) == text


@pytest.mark.parametrize(
    "text",
    ["", " ", "consensus", "majority!", "min", "min:", "min:0", "min:-1", "min:x", "min: 2",
     "min:2.5", "min:1234567", "min:3 min:4", "2"],
)  # fmt: skip
def test_bad_rule_strings_raise_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput, match="use unanimous, majority or min:N"):
        parse_rule(text)


@pytest.mark.parametrize(("name", "minimum"), [("min", 0), ("min", -1), ("consensus", 0)])
def test_a_rule_built_by_hand_must_be_valid(name: str, minimum: int) -> None:
    # Rule("min", 0) would be met by zero endorsements: silence counted as consent.
    with pytest.raises(InvalidInput):
        Rule(name, minimum)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("unanimous", "every member endorses or abstains, and no one declines"),
        ("majority", "more than half of the members endorse"),
        ("min:3", "at least 3 members endorse"),
    ],
)
def test_rule_text_says_the_rule_in_words(rule: str, words: str) -> None:
    assert rule_text(rule) == words


# --- tally ----------------------------------------------------------------------------------------


def test_tally_counts_decisions_and_treats_no_answer_as_pending() -> None:
    decisions = [ENDORSE, ENDORSE, DECLINE, ABSTAIN, None, "stale?", ENDORSE]
    assert tally(decisions) == counts(endorse=3, decline=1, abstain=1, pending=2)
    assert tally(decisions).recipients == 7
    assert tally(decisions).as_dict() == {"endorse": 3, "decline": 1, "abstain": 1, "pending": 2}


def test_tally_maps_consult_answers() -> None:
    assert tally(["support", "concerns", "abstain", None]) == counts(1, 1, 1, 1)


def test_empty_tally() -> None:
    assert tally([]) == counts()
    assert counts().recipients == 0


# --- is_met, can_still_be_met, outcome ------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "tallied", "met"),
    [
        (UNANIMOUS, counts(endorse=5), True),
        (UNANIMOUS, counts(endorse=1, abstain=4), True),
        (UNANIMOUS, counts(endorse=4, decline=1), False),
        (UNANIMOUS, counts(endorse=4, pending=1), False),
        (UNANIMOUS, counts(abstain=5), False),
        (UNANIMOUS, counts(), False),
        (MAJORITY, counts(endorse=3, decline=2), True),
        (MAJORITY, counts(endorse=2, decline=2), False),
        (MAJORITY, counts(endorse=3, pending=3), False),
        (MAJORITY, counts(endorse=3, abstain=2), True),
        (MAJORITY, counts(endorse=2, abstain=3), False),
        (MAJORITY, counts(endorse=4, pending=3), True),
        (MAJORITY, counts(), False),
        (Rule("min", 3), counts(endorse=3, decline=9, pending=9), True),
        (Rule("min", 3), counts(endorse=2, abstain=1), False),
        (Rule("min", 1), counts(pending=5), False),
    ],
)
def test_is_met(rule: Rule, tallied: Tally, met: bool) -> None:
    assert is_met(rule, tallied) is met
    assert outcome(rule, tallied) == (ENDORSED if met else NOT_ENDORSED)
    assert outcome(rule, tallied, mode="consult") == CONSULTED


@pytest.mark.parametrize(
    ("rule", "tallied", "possible"),
    [
        (UNANIMOUS, counts(endorse=2, pending=3), True),
        (UNANIMOUS, counts(abstain=2, pending=1), True),
        (UNANIMOUS, counts(endorse=4, decline=1, pending=5), False),
        (UNANIMOUS, counts(abstain=3), False),
        (MAJORITY, counts(endorse=1, decline=2, pending=2), True),
        (MAJORITY, counts(endorse=1, decline=3, pending=2), False),
        (MAJORITY, counts(decline=1, abstain=1, pending=1), False),
        (Rule("min", 4), counts(endorse=1, pending=3), True),
        (Rule("min", 4), counts(endorse=1, decline=5, pending=2), False),
        (Rule("min", 1), counts(), False),
    ],
)
def test_can_still_be_met(rule: Rule, tallied: Tally, possible: bool) -> None:
    assert can_still_be_met(rule, tallied) is possible


# --- close_reason ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "tallied", "now", "mode", "reason"),
    [
        (MAJORITY, counts(endorse=1, pending=4), LATER, "endorse", "deadline"),
        (MAJORITY, counts(endorse=1, pending=4), LATER + timedelta(hours=1), "endorse", "deadline"),
        (MAJORITY, counts(endorse=5), LATER, "endorse", "deadline"),
        (MAJORITY, counts(endorse=3, decline=2), NOW, "endorse", "all_answered"),
        (UNANIMOUS, counts(abstain=5), NOW, "endorse", "all_answered"),
        (MAJORITY, counts(decline=3, pending=2), NOW, "endorse", "impossible"),
        (UNANIMOUS, counts(endorse=3, decline=1, pending=3), NOW, "endorse", "impossible"),
        (MAJORITY, counts(endorse=1, pending=4), NOW, "endorse", None),
        (MAJORITY, counts(endorse=4, pending=1), NOW, "endorse", None),  # met early: stays open
        (Rule("min", 2), counts(endorse=2, pending=8), NOW, "endorse", None),
        (MAJORITY, counts(decline=3, pending=2), NOW, "consult", None),
        (MAJORITY, counts(endorse=1, decline=1), NOW, "consult", "all_answered"),
        (MAJORITY, counts(pending=3), LATER, "consult", "deadline"),
    ],
)
def test_close_reason(rule, tallied, now, mode, reason) -> None:
    assert close_reason(rule, tallied, LATER, now, mode) == reason


def test_close_reason_with_no_recipients_is_impossible_not_all_answered() -> None:
    assert close_reason(MAJORITY, counts(), LATER, NOW) == "impossible"


def test_close_reasons_are_the_known_ones() -> None:
    assert CLOSE_REASONS == (
        "all_answered",
        "deadline",
        "impossible",
        "closed_by_secretariat",
        "withdrawn",
    )


# --- the round lifecycle --------------------------------------------------------------------------


def a_round(state: str = "open") -> Round:
    item = Round(
        statement_id=1,
        group_id=1,
        mode="endorse",
        rule="unanimous",
        deadline=LATER,
        text_sha256="0" * 64,
        version_number=1,
    )
    item.state = state
    return item


def test_round_lifecycle_has_open_and_closed() -> None:
    assert ROUND_LIFECYCLE.states == ("open", "closed")
    assert ROUND_LIFECYCLE.triggers == frozenset({"close"})
    assert (ROUND_LIFECYCLE.allowed("open"), ROUND_LIFECYCLE.allowed("closed")) == (["close"], [])


@pytest.mark.parametrize("result", [ENDORSED, NOT_ENDORSED, CONSULTED])
@pytest.mark.parametrize("reason", CLOSE_REASONS)
def test_close_records_outcome_reason_and_time(result: str, reason: str) -> None:
    item = a_round()
    assert item.fire("close", outcome=result, reason=reason, at=NOW) == "closed"
    assert (item.state, item.outcome, item.close_reason, item.closed_at) == (
        "closed",
        result,
        reason,
        NOW,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reason": "deadline"}, "closing a round needs its outcome"),
        ({"outcome": "maybe", "reason": "deadline"}, "closing a round needs its outcome"),
        ({"outcome": ENDORSED}, "closing a round needs a known reason"),
        ({"outcome": ENDORSED, "reason": "bored"}, "closing a round needs a known reason"),
    ],
)
def test_close_guards(kwargs: dict, message: str) -> None:
    item = a_round()
    with pytest.raises(GuardFailed, match=message):
        item.fire("close", at=NOW, **kwargs)
    assert item.state == "open"
    assert (item.outcome, item.close_reason, item.closed_at) == (None, None, None)


@pytest.mark.parametrize(
    ("state", "trigger", "allowed_text"),
    [("closed", "close", "none"), ("closed", "reopen", "none"), ("open", "reopen", "close")],
)
def test_illegal_round_transition(state: str, trigger: str, allowed_text: str) -> None:
    item = a_round(state)
    with pytest.raises(IllegalTransition) as caught:
        item.fire(trigger, outcome=ENDORSED, reason="deadline", at=NOW)
    assert str(caught.value) == (
        f"cannot {trigger} round in state '{state}' (allowed from '{state}': {allowed_text})"
    )
    assert item.state == state


# --- properties -----------------------------------------------------------------------------------

rules = st.one_of(
    st.sampled_from([UNANIMOUS, MAJORITY]),
    st.integers(1, 12).map(lambda n: parse_rule(f"min:{n}")),
)
answers = st.sampled_from([ENDORSE, DECLINE, ABSTAIN, None])
ballots = st.lists(answers, max_size=15)
tallies = st.builds(Tally, *[st.integers(0, 12)] * 4)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
modes = st.sampled_from(["endorse", "consult"])
silences = st.lists(st.sampled_from([ABSTAIN, None]), max_size=15)
any_answers = st.lists(st.one_of(answers, st.sampled_from(["support", "concerns"]), st.text()))
late_by = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90))
early_by = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=90))


@given(rules, tallies)
def test_silence_never_counts_as_consent(rule: Rule, tallied: Tally) -> None:
    assume(tallied.endorse >= 1)
    silent = Tally(tallied.endorse - 1, tallied.decline, tallied.abstain, tallied.pending + 1)
    if outcome(rule, tallied) == NOT_ENDORSED:
        assert outcome(rule, silent) == NOT_ENDORSED


@given(rules, tallies)
def test_a_silent_member_weighs_like_one_who_declined(rule: Rule, tallied: Tally) -> None:
    declined = Tally(tallied.endorse, tallied.decline + tallied.pending, tallied.abstain, 0)
    assert outcome(rule, tallied) == outcome(rule, declined)


@given(rules, silences, modes)
def test_a_round_of_silence_and_abstentions_is_never_endorsed(rule, decisions, mode) -> None:
    assert outcome(rule, tally(decisions), mode) != ENDORSED


@given(rules, tallies)
def test_an_added_endorsement_never_undoes_endorsement(rule: Rule, tallied: Tally) -> None:
    assume(tallied.pending >= 1)
    more = Tally(tallied.endorse + 1, tallied.decline, tallied.abstain, tallied.pending - 1)
    if outcome(rule, tallied) == ENDORSED:
        assert outcome(rule, more) == ENDORSED


@given(rules, ballots, st.data())
def test_impossible_means_no_completion_is_endorsed(rule, decisions, data) -> None:
    tallied = tally(decisions)
    assume(not can_still_be_met(rule, tallied))
    best = Tally(tallied.endorse + tallied.pending, tallied.decline, tallied.abstain, 0)
    assert outcome(rule, best) == NOT_ENDORSED
    completed = [d or data.draw(st.sampled_from([ENDORSE, DECLINE, ABSTAIN])) for d in decisions]
    assert outcome(rule, tally(completed)) == NOT_ENDORSED


@given(rules, tallies, moments, late_by, modes)
def test_at_or_after_the_deadline_the_reason_is_deadline(rule, tallied, deadline, late, mode):
    assert close_reason(rule, tallied, deadline, deadline + late, mode) == "deadline"


@given(rules, tallies, moments, early_by)
def test_meeting_the_rule_early_does_not_close_the_round(rule, tallied, deadline, early) -> None:
    assume(is_met(rule, tallied))
    reason = close_reason(rule, tallied, deadline, deadline - early)
    assert reason == (None if tallied.pending else "all_answered")


@given(any_answers)
def test_tally_counts_sum_to_the_recipients(decisions: list[str | None]) -> None:
    tallied = tally(decisions)
    assert tallied.recipients == len(decisions) == sum(tallied.as_dict().values())


@given(rules, tallies, moments, moments)
def test_consult_mode_never_yields_endorsed(rule, tallied, deadline, now) -> None:
    assert outcome(rule, tallied, mode="consult") == CONSULTED
    assert close_reason(rule, tallied, deadline, now, mode="consult") != "impossible"


@given(rules, ballots)
def test_rules_follow_their_definitions(rule: Rule, decisions: list[str | None]) -> None:
    endorsements = decisions.count(ENDORSE)
    if rule.name == "unanimous":
        expected = endorsements >= 1 and all(d in (ENDORSE, ABSTAIN) for d in decisions)
    elif rule.name == "majority":
        expected = endorsements > len(decisions) / 2
    else:
        expected = endorsements >= rule.minimum
    assert is_met(rule, tally(decisions)) is expected


@pytest.mark.parametrize(
    ("previous", "decision", "expected"),
    [
        (None, "endorse", Tally(endorse=2, decline=1, abstain=0, pending=1)),
        ("decline", "endorse", Tally(endorse=2, decline=0, abstain=0, pending=2)),
        ("endorse", "endorse", Tally(endorse=1, decline=1, abstain=0, pending=2)),
        (None, "support", Tally(endorse=2, decline=1, abstain=0, pending=1)),
        (None, "concerns", Tally(endorse=1, decline=2, abstain=0, pending=1)),
        ("decline", "abstain", Tally(endorse=1, decline=0, abstain=1, pending=2)),
    ],
)
def test_an_answer_moves_the_tally_as_a_recount_would(previous, decision, expected) -> None:
    before = Tally(endorse=1, decline=1, abstain=0, pending=2)
    assert before.after_answer(previous, decision) == expected
    assert expected.recipients == before.recipients
