"""Rounds end to end through the services, on SQLite and PostgreSQL (mail stays in the outbox)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from accord.services.answering import RoundClosed, StaleText, record_decision
from accord.services.context import Context
from accord.services.members import import_members
from accord.services.publish import publish_statement
from accord.services.results import plain
from accord.services.round_reminders import sweep_rounds
from accord.services.rounds import close_round, member_by_email, round_status, start_round
from accord.services.statement_rounds import revise_statement, withdraw_statement
from accord.services.statements import draft_statement, show_statement
from statemachines.errors import GuardFailed, IllegalTransition, InvalidInput, NotFound
from storage import tables as t
from tests.conftest import FIXED_NOW, FIXTURES

DEADLINE = FIXED_NOW + timedelta(days=10)
TEXT = "On International Migrants Day, the members of the Advisory Group recall...\n"


def at(ctx: Context, when: datetime) -> Context:
    """The same database seen at another moment."""
    return Context(ctx.settings.model_copy(update={"now": when}), _db=ctx.db)


def count(ctx: Context, table: Any, *where: Any) -> int:
    with ctx.uow(readonly=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(table).where(*where)))


@pytest.fixture
def members(ctx: Context) -> dict[str, int]:
    import_members(ctx, FIXTURES / "members.csv")
    with ctx.uow(readonly=True) as uow:
        return {m.email.split(".")[0]: m.id for m in uow.members.list()}


def draft(ctx: Context, **kw: Any) -> int:
    args = {"title": "International Migrants Day 2023", "kind": "awareness-day", "body": TEXT}
    return draft_statement(ctx, **{**args, **kw}).id


def start(ctx: Context, statement_id: int, **kw: Any) -> dict[str, Any]:
    args = {"group": "Advisory Group", "rule": "majority", "deadline": DEADLINE}
    return plain(start_round(ctx, statement_id=statement_id, **{**args, **kw}))


def answer(ctx: Context, round_id: int, member_id: int, decision: str, comment: str = "") -> dict:
    return plain(
        record_decision(
            ctx,
            round_id=round_id,
            member_id=member_id,
            decision=decision,
            comment=comment,
            channel="link",
        )
    )


def kept_tally(ctx: Context, round_id: int) -> dict[str, int]:
    """The tally the round's row keeps (moved by each answer, not recounted)."""
    with ctx.uow(readonly=True) as uow:
        return uow.rounds.get(round_id).counts.as_dict()


def test_the_tally_kept_with_the_round_is_always_the_count_of_its_answers(ctx, members) -> None:
    statement_id = draft(ctx)
    rnd = start(ctx, statement_id)["id"]
    steps = [
        lambda: None,
        lambda: answer(ctx, rnd, members["barry"], "endorse"),
        lambda: answer(ctx, rnd, members["barry"], "endorse"),  # the same again
        lambda: answer(ctx, rnd, members["barry"], "decline", "political"),
        lambda: answer(ctx, rnd, members["gemma"], "abstain"),
        lambda: plain(revise_statement(ctx, statement_id, TEXT + "We call on cities to act.\n")),
        lambda: answer(ctx, rnd, members["gemma"], "endorse"),
    ]
    for step in steps:
        step()
        assert kept_tally(ctx, rnd) == plain(round_status(ctx, rnd))["tally"]
    assert kept_tally(ctx, rnd) == {"endorse": 1, "decline": 0, "abstain": 0, "pending": 6}
    assert plain(round_status(ctx, rnd))["flagged_political"] is True


def test_start_writes_one_recipient_and_one_invitation_per_member(ctx, members) -> None:
    statement_id = draft(ctx)
    rnd = start(ctx, statement_id)
    assert rnd["state"] == "open" and len(rnd["recipients"]) == 7
    assert rnd["tally"] == {"endorse": 0, "decline": 0, "abstain": 0, "pending": 7}
    assert count(ctx, t.outbox, t.outbox.c.purpose == "invitation") == 7
    assert show_statement(ctx, statement_id).state == "circulated"
    with ctx.uow(readonly=True) as uow:
        keys = list(uow.session.scalars(select(t.recipients.c.reply_key)))
    assert len(set(keys)) == 7 and all(len(k) == 32 and k == k.lower() for k in keys)


@pytest.mark.parametrize(
    ("setup", "kwargs", "message"),
    [
        ("political", {}, "does not accept political statements"),
        ("refuses", {}, "refuses statements of kind 'awareness-day'"),
        (None, {"deadline": FIXED_NOW - timedelta(hours=1)}, "is not in the future"),
        (None, {"group": "Nobody"}, "no group named 'Nobody'"),
        (None, {"rule": "most"}, "unknown rule 'most'"),
        (None, {"mode": "vote"}, "unknown mode 'vote'"),
        ("empty-group", {"group": "Empty"}, "has no deliverable recipient"),
    ],
)
def test_a_refused_circulation_sends_nothing_and_changes_nothing(
    ctx, members, setup, kwargs, message
) -> None:
    statement_id = draft(ctx, political=setup == "political")
    with ctx.uow() as uow:
        if setup == "refuses":
            uow.groups.named("Advisory Group").refused_kinds = ["awareness-day"]
        if setup == "empty-group":
            uow.groups.get_or_create("Empty")
        uow.commit()
    entries = count(ctx, t.audit_log)
    with pytest.raises((GuardFailed, NotFound, InvalidInput), match=message):
        start(ctx, statement_id, **kwargs)
    assert count(ctx, t.rounds) == 0 and count(ctx, t.outbox) == 0
    assert count(ctx, t.audit_log) == entries
    assert show_statement(ctx, statement_id).state == "draft"


def test_a_group_that_accepts_political_statements_can_be_asked(ctx, members) -> None:
    statement_id = draft(ctx, political=True)
    with ctx.uow() as uow:
        uow.groups.named("Advisory Group").accepts_political = True
        uow.commit()
    assert start(ctx, statement_id)["state"] == "open"


def test_answers_tally_change_with_history_and_close_when_everyone_answered(ctx, members) -> None:
    rnd = start(ctx, draft(ctx))["id"]
    ids = list(members.values())
    for member_id in ids[:4]:
        answer(ctx, rnd, member_id, "endorse")
    answer(ctx, rnd, ids[0], "abstain", "on second thought")
    status = plain(round_status(ctx, rnd))
    assert status["tally"] == {"endorse": 3, "decline": 0, "abstain": 1, "pending": 3}
    assert status["state"] == "open"  # majority met early does not close it
    assert count(ctx, t.decisions, t.decisions.c.member_id == ids[0]) == 2
    for member_id in ids[4:]:
        last = answer(ctx, rnd, member_id, "endorse")
    assert (last["round_state"], last["outcome"]) == ("closed", "endorsed")
    status = plain(round_status(ctx, rnd))
    assert status["close_reason"] == "all_answered"
    assert show_statement(ctx, status["statement_id"]).state == "endorsed"
    assert count(ctx, t.outbox, t.outbox.c.purpose == "receipt") == 8
    assert count(ctx, t.outbox, t.outbox.c.purpose == "result") == 1
    with pytest.raises(RoundClosed):
        answer(ctx, rnd, ids[0], "decline")


def test_a_unanimous_round_closes_as_soon_as_one_declines(ctx, members) -> None:
    rnd = start(ctx, draft(ctx), rule="unanimous")["id"]
    result = answer(ctx, rnd, members["barry"], "decline", "political: not for us")
    assert (result["round_state"], result["outcome"]) == ("closed", "not_endorsed")
    status = plain(round_status(ctx, rnd))
    assert status["close_reason"] == "impossible" and status["flagged_political"] is True


def test_unknown_decisions_and_strangers_are_refused_and_record_nothing(ctx, members) -> None:
    rnd = start(ctx, draft(ctx))["id"]
    with pytest.raises(InvalidInput, match="unknown decision 'maybe'"):
        answer(ctx, rnd, members["barry"], "maybe")
    with pytest.raises(InvalidInput, match="unknown decision 'support'"):
        answer(ctx, rnd, members["barry"], "support")
    with pytest.raises(NotFound):
        answer(ctx, rnd, 99999, "endorse")
    assert count(ctx, t.decisions) == 0


def test_closing_early_computes_the_outcome_as_at_the_deadline(ctx, members) -> None:
    rnd = start(ctx, draft(ctx), rule="min:2")["id"]
    answer(ctx, rnd, members["barry"], "endorse")
    closed = plain(close_round(ctx, rnd))
    assert (closed["state"], closed["outcome"]) == ("closed", "not_endorsed")
    assert closed["close_reason"] == "closed_by_secretariat"
    with pytest.raises(IllegalTransition, match="state 'closed'"):
        close_round(ctx, rnd)


def test_sweep_closes_after_the_deadline_silence_is_not_consent(ctx, members) -> None:
    rnd = start(ctx, draft(ctx), rule="min:1")["id"]
    assert plain(sweep_rounds(ctx))["closed"] == 0
    later = at(ctx, DEADLINE + timedelta(minutes=1))
    assert plain(sweep_rounds(later))["closed"] == 1
    assert plain(round_status(ctx, rnd))["outcome"] == "not_endorsed"
    assert plain(sweep_rounds(later)) == {"open_rounds": 0, "closed": 0, "reminders": 0}


def test_reminders_follow_the_schedule_at_most_once_each_and_thread(ctx, members) -> None:
    rnd = start(ctx, draft(ctx))["id"]
    answer(ctx, rnd, members["barry"], "endorse")
    assert plain(sweep_rounds(at(ctx, DEADLINE - timedelta(days=4))))["reminders"] == 0
    three_days = at(ctx, DEADLINE - timedelta(days=3))
    assert plain(sweep_rounds(three_days))["reminders"] == 6
    assert plain(sweep_rounds(three_days))["reminders"] == 0
    assert plain(sweep_rounds(at(ctx, DEADLINE - timedelta(hours=23))))["reminders"] == 6
    assert plain(sweep_rounds(at(ctx, DEADLINE - timedelta(hours=1))))["reminders"] == 0
    with ctx.uow(readonly=True) as uow:
        threads = set(
            uow.session.scalars(
                select(t.outbox.c.thread_id).where(t.outbox.c.purpose == "reminder")
            )
        )
        invitations = set(
            uow.session.scalars(
                select(t.outbox.c.message_id).where(t.outbox.c.purpose == "invitation")
            )
        )
    assert threads and threads <= invitations


def test_revision_makes_answers_stale_and_asks_everyone_again(ctx, members) -> None:
    statement_id = draft(ctx)
    rnd = start(ctx, statement_id)["id"]
    old_sha = plain(round_status(ctx, rnd))["text_sha256"]
    answer(ctx, rnd, members["barry"], "endorse")
    revised = plain(revise_statement(ctx, statement_id, TEXT + "We call on cities to act.\n"))
    assert revised["current_version"] == 2 and revised["reasked"] == 7
    status = plain(round_status(ctx, rnd))
    assert status["version"] == 2 and status["tally"]["pending"] == 7
    assert count(ctx, t.outbox, t.outbox.c.purpose == "revision") == 7
    with pytest.raises(StaleText):
        record_decision(
            ctx,
            round_id=rnd,
            member_id=members["barry"],
            decision="endorse",
            comment=None,
            channel="link",
            text_sha256=old_sha,
        )
    assert count(ctx, t.decisions) == 1
    with pytest.raises(InvalidInput, match="same as the current version"):
        revise_statement(ctx, statement_id, TEXT + "We call on cities to act.\n")


def test_consultation_leaves_the_statement_a_draft(ctx, members) -> None:
    statement_id = draft(ctx)
    rnd = start(ctx, statement_id, mode="consult")["id"]
    assert count(ctx, t.outbox, t.outbox.c.purpose == "consultation") == 7
    for member_id in members.values():
        answer(ctx, rnd, member_id, "support", "fine kind of message")
    status = plain(round_status(ctx, rnd))
    assert (status["state"], status["outcome"]) == ("closed", "consulted")
    assert kept_tally(ctx, rnd) == status["tally"] == {
        "endorse": 7, "decline": 0, "abstain": 0, "pending": 0
    }  # fmt: skip
    assert show_statement(ctx, statement_id).state == "draft"


def test_withdrawal_needs_a_reason_and_tells_those_who_endorsed(ctx, members) -> None:
    statement_id = draft(ctx)
    rnd = start(ctx, statement_id)["id"]
    answer(ctx, rnd, members["barry"], "endorse")
    answer(ctx, rnd, members["gemma"], "decline", "timing")
    with pytest.raises(GuardFailed, match="withdraw needs a reason"):
        withdraw_statement(ctx, statement_id, "  ")
    result = plain(withdraw_statement(ctx, statement_id, "events overtook it"))
    assert result["state"] == "withdrawn" and result["notified"] == 1
    assert plain(round_status(ctx, rnd))["close_reason"] == "withdrawn"
    assert count(ctx, t.outbox, t.outbox.c.purpose == "withdrawal") == 1


def test_publish_only_an_endorsed_statement_with_its_certificate(ctx, members) -> None:
    statement_id = draft(ctx)
    with pytest.raises(IllegalTransition, match="cannot publish statement in state 'draft'"):
        publish_statement(ctx, statement_id)
    rnd = start(ctx, statement_id)["id"]
    for name in ("barry", "gemma", "gregory", "ingrid"):
        answer(ctx, rnd, members[name], "endorse")
    close_round(ctx, rnd)
    result = plain(publish_statement(ctx, statement_id))
    assert [s["name"] for s in result["signatories"]] == [
        "Barry Cusack",
        "Gemma Pinyol-Jiménez",
        "Gregory Jaquet",
        "Ingrid Hauge Rasmussen",
    ]
    site = ctx.settings.home / "site"
    page = (site / "international-migrants-day-2023.html").read_text(encoding="utf-8")
    assert "Gemma Pinyol-Jiménez" in page and "City of Bradford" in page
    certificate = json.loads((site / "international-migrants-day-2023.json").read_text())
    assert certificate["text_sha256"] == plain(round_status(ctx, rnd))["text_sha256"]
    assert certificate["round"]["rule"] == "majority" and len(certificate["endorsers"]) == 4
    assert "<entry>" in (site / "feed.atom").read_text(encoding="utf-8")
    assert result["url"].endswith("/site/international-migrants-day-2023.html")
    assert count(ctx, t.outbox, t.outbox.c.purpose == "published") == 7
    with pytest.raises(IllegalTransition):
        publish_statement(ctx, statement_id)


def test_the_decision_record_holds_every_step_and_verifies(ctx, members) -> None:
    rnd = start(ctx, draft(ctx), rule="min:1")["id"]
    record_decision(
        ctx,
        round_id=rnd,
        member_id=member_by_email(ctx, "BARRY.cusack@example.org"),
        decision="endorse",
        comment="by phone",
        channel="cli",
        actor="secretariat",
    )
    with ctx.uow(readonly=True) as uow:
        entries = uow.audit.entries()
        assert uow.audit.verify().ok
    actions = [(e.entity_type, e.action, e.channel) for e in entries]
    assert ("statement", "draft", "cli") in actions
    assert ("round", "start", "cli") in actions
    assert ("round", "decision.endorse", "cli") in actions
    decision = next(e for e in entries if e.action == "decision.endorse")
    assert decision.actor == "secretariat" and decision.text_sha256
