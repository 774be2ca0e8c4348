"""Which events an entry of the decision record stands for (no Prefect server needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from accord.services.operations import RoundFacts, Transition, transitions_since
from flows.events import announcements

ROUND = RoundFacts(
    id=4,
    statement_id=2,
    slug="migrants-day",
    kind="awareness-day",
    group="Advisory Group",
    auto_publish=True,
    mode="endorse",
    rule="majority",
    state="closed",
    outcome="endorsed",
    deadline=datetime(2026, 12, 18, 17, tzinfo=UTC),
    version=1,
    tally={"endorse": 5, "decline": 1, "abstain": 1, "pending": 0},
    delivery={"pending": 0, "sending": 0, "sent": 7, "failed": 0},
)


def entry(entity_type: str, entity_id: str, action: str, **payload: object) -> Transition:
    return Transition(7, "ab" * 32, entity_type, entity_id, action, dict(payload))


def test_a_close_that_endorses_names_the_statement_for_the_automation() -> None:
    closed = entry("round", "4", "close", outcome="endorsed", statement_state="endorsed")
    [round_closed, endorsed] = announcements(closed, ROUND)
    assert round_closed.event == "accord.round.closed"
    assert round_closed.resource["prefect.resource.id"] == "accord.round.4"
    assert endorsed.event == "accord.statement.endorsed"
    assert endorsed.resource["prefect.resource.id"] == "accord.statement.2"
    assert endorsed.resource["accord.auto-publish"] == "true"
    assert endorsed.payload["statement_id"] == 2 and endorsed.payload["audit_seq"] == 7
    related = {r["prefect.resource.id"]: r["prefect.resource.role"] for r in endorsed.related}
    assert related == {"accord.round.4": "round", "accord.group.advisory-group": "group"}


def test_a_consultation_moves_no_statement() -> None:
    consult = RoundFacts(**{**vars(ROUND), "mode": "consult"})
    started = announcements(entry("round", "4", "start"), consult)
    assert [a.event for a in started] == ["accord.round.started"]


def test_other_entries_are_named_after_their_kind_and_action() -> None:
    [published] = announcements(entry("statement", "2", "publish", round=4), None)
    assert published.event == "accord.statement.published"
    [configured] = announcements(entry("group", "Advisory Group", "configure"), None)
    assert configured.event == "accord.group.configured"
    assert configured.resource == {
        "prefect.resource.id": "accord.group.advisory-group",
        "prefect.resource.name": "Advisory Group",
    }


def test_members_answers_are_not_announced(ctx) -> None:
    with ctx.uow() as uow:
        for action in ("draft", "decision.endorse", "decision.decline", "publish"):
            uow.audit.append(
                actor="a",
                channel="cli",
                entity_type="statement",
                entity_id=1,
                action=action,
                at=datetime.now(UTC),
            )
        uow.commit()
    assert [t.action for t in transitions_since(ctx, 0)] == ["draft", "publish"]
    assert [t.seq for t in transitions_since(ctx, 1)] == [4]
