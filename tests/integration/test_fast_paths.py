"""The fast paths of issue 8 give what the plain paths give, on SQLite and PostgreSQL.

- `accord rounds status` reads through the database driver alone (accord.services.status and
  storage.plain, no SQLAlchemy): the same document as `accord.services.rounds.round_status`
  reads inside a unit of work, and as the SQLAlchemy connection other URLs get.
- The reply page is read in one query (accord.services.answering.reply_page): the same page as the
  long way, which still explains every refusal.
- A round's mail is rendered once per language and filled in per member (Composer and
  accord.mail.render.prepare): the same bytes as rendering each mail, hostile names included.
- The sweep only opens a transaction for the rounds with something due: the same closes and
  reminders as visiting every round.
- The weekly action digest counts the open actions in SQL and lists the due ones it already
  read: the same digest as building it from every open action.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from accord.config import load_settings
from accord.mail.render import prepare, render
from accord.services import answering, status
from accord.services.answering import record_decision
from accord.services.composing import PERSONAL, Composer
from accord.services.context import Context
from accord.services.links import read_token
from accord.services.members import import_members
from accord.services.results import plain as plain_data
from accord.services.round_reminders import sweep_rounds
from accord.services.rounds import close_round, round_status, start_round
from accord.services.statements import draft_statement, kind_meaning, kinds_named
from statemachines.errors import AccordError, NotFound
from statemachines.rounds import DECISIONS, rule_text
from storage import plain
from storage import tables as t
from storage.answers import SyncAnswerStore
from tests.conftest import FIXED_NOW, FIXTURES
from tests.links import member_token

DEADLINE = FIXED_NOW + timedelta(days=10)
TEXT = "On International Migrants Day, the members of the Advisory Group recall...\n"


def _round(ctx: Context, title: str = "International Migrants Day 2023") -> dict[str, Any]:
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(ctx, title=title, kind="awareness-day", body=TEXT).id
    return plain_data(
        start_round(
            ctx, statement_id=statement, group="Advisory Group", rule="majority", deadline=DEADLINE
        )
    )


def _members(ctx: Context, round_id: int) -> list[int]:
    with ctx.uow(readonly=True) as uow:
        query = select(t.recipients.c.member_id).where(t.recipients.c.round_id == round_id)
        return sorted(uow.session.scalars(query))


def _answer(ctx: Context, round_id: int, member_id: int, decision: str, comment: str = "") -> None:
    record_decision(
        ctx,
        round_id=round_id,
        member_id=member_id,
        decision=decision,
        comment=comment,
        channel="link",
    )


def test_status_read_by_the_driver_is_the_round_status(ctx, monkeypatch) -> None:
    rnd = _round(ctx)
    members = _members(ctx, rnd["id"])
    _answer(ctx, rnd["id"], members[0], "endorse")
    _answer(ctx, rnd["id"], members[1], "decline", "political: not for us")
    assert plain.handles(ctx.settings.db_url)  # both test databases are opened by the driver
    read = plain_data(status.round_status(ctx.settings, rnd["id"]))
    assert read["queue"] == {"waiting": 9, "next_batch_at": None}  # 7 asked, 2 receipts
    assert read == plain_data(round_status(ctx, rnd["id"]))
    assert read["tally"] == {"endorse": 1, "decline": 1, "abstain": 0, "pending": 5}
    assert read["deadline"] == DEADLINE.isoformat()
    decided = [r["decided_at"] for r in read["recipients"] if r["decision"]]
    assert len(decided) == 2 and all(d.endswith("+00:00") for d in decided)
    closed = plain_data(close_round(ctx, rnd["id"]))
    assert (
        plain_data(status.round_status(ctx.settings, rnd["id"]))
        == plain_data(round_status(ctx, rnd["id"]))
        == closed
    )
    # A URL storage.plain leaves to SQLAlchemy gets the same document.
    monkeypatch.setattr(plain, "handles", lambda url: False)
    assert plain_data(status.round_status(ctx.settings, rnd["id"])) == closed
    with pytest.raises(NotFound):
        status.round_status(ctx.settings, rnd["id"] + 1)


def test_status_of_no_accord_database_says_run_init_and_creates_nothing(tmp_path) -> None:
    missing = tmp_path / "missing" / "accord.db"
    settings = load_settings(home=tmp_path, database_url=f"sqlite:///{missing}")
    with pytest.raises(AccordError, match=f"no accord database at {missing}: run `accord init`"):
        status.round_status(settings, 1)
    assert not missing.parent.exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    settings = load_settings(home=tmp_path, database_url=f"sqlite:///{empty}")
    with pytest.raises(AccordError, match=f"no accord database at {empty}: run `accord init`"):
        status.round_status(settings, 1)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://postgres@127.0.0.1:9/accord", "Connect call failed"),  # nothing listens
        ("postgresql+psycopg://postgres@127.0.0.1:5432/accord_no_such_db", "does not exist"),
    ],
)
def test_status_of_an_unreachable_postgresql_is_one_line(tmp_path, url, reason) -> None:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "accord"), "rounds", "status", "1"],
        capture_output=True,
        text=True,
        env={"ACCORD_HOME": str(tmp_path), "ACCORD_DATABASE_URL": url, "PATH": "/usr/bin"},
    )
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot open the database at "), lines
    assert reason in lines[0] and "Traceback" not in out.stderr


def test_rounds_status_imports_no_sqlalchemy(ctx) -> None:
    """Nor psycopg, nor asyncio on SQLite: on PostgreSQL it reads through asyncpg, lighter to
    import (bench/RESULTS.md, section 3)."""
    rnd = _round(ctx)
    heavy = ("sqlalchemy", "prefect", "psycopg", "accord.cli.up", "accord.cli.actions")
    heavy += ("asyncio",) if ctx.settings.db_url.startswith("sqlite") else ()
    probe = (
        "import sys; sys.argv = ['accord', 'rounds', 'status', sys.argv[1]]\n"
        "from accord.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print('imported', [m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(rnd["id"])], capture_output=True, text=True, check=True
    ).stdout
    assert "pending 7" in out
    assert out.strip().endswith("imported []")


def test_the_reply_page_read_in_one_query_is_the_page_read_the_long_way(ctx) -> None:
    rnd = _round(ctx)
    members = _members(ctx, rnd["id"])
    _answer(ctx, rnd["id"], members[2], "abstain", "busy & <away>")
    secret = ctx.settings.resolve_secret_key()
    for member_id in members:
        token = member_token(
            ctx,
            round_id=rnd["id"],
            member_id=member_id,
            text_sha256=rnd["text_sha256"],
            deadline=DEADLINE,
        )
        claims = read_token(secret, token, ctx.now())
        one_query = answering.reply_page(ctx, SyncAnswerStore(ctx.db), token)
        assert plain_data(answering.finished(one_query)) == _page_the_long_way(ctx, claims)


def _page_the_long_way(ctx: Context, claims: Any) -> dict[str, Any]:
    """The reply page read through the repositories (as accord once read it)."""
    with ctx.uow(readonly=True) as uow:
        rnd = uow.rounds.get(claims.round_id)
        statement = uow.statements.get(rnd.statement_id)
        member = uow.members.get(claims.member_id)
        current = uow.session.execute(
            select(t.recipients.c.decision, t.recipients.c.comment).where(
                t.recipients.c.round_id == rnd.id, t.recipients.c.member_id == member.id
            )
        ).one()
        version = next(v for v in statement.versions if v.sha256 == rnd.text_sha256)
        return {
            "member": {"name": member.name, "email": member.email, "timezone": member.timezone},
            "statement": {
                "title": statement.title,
                "kind": statement.kind,
                "kind_meaning": kind_meaning(kinds_named(uow), statement.kind, member.language),
                "political": bool(statement.political),
                "body": version.body,
                "sha256": version.sha256,
                "version": version.number,
            },
            "round": {
                "id": rnd.id,
                "mode": rnd.mode,
                "rule": rnd.rule,
                "rule_text": rule_text(rnd.rule),
                "deadline": rnd.deadline,
                "secretariat_timezone": ctx.settings.timezone,
            },
            "choices": list(DECISIONS[rnd.mode]),
            "current": {"decision": current.decision, "comment": current.comment},
        }


def test_a_filled_in_skeleton_is_the_rendered_mail_even_for_hostile_values(ctx) -> None:
    rnd = _round(ctx, title='Migrants & "Refugees" <Day>')
    with ctx.uow(readonly=True) as uow:
        rows = list(uow.session.execute(select(t.outbox).order_by(t.outbox.c.id)))
        composer = Composer(ctx, uow)
        members = composer.reads.members({r.member_id for r in rows})
        keys = composer.reads.reply_keys({rnd["id"]}, members.keys())
        for purpose in ("invitation", "consultation", "reminder"):
            row = rows[0]
            member = members[row.member_id]
            context = composer.context(row, member, keys[(rnd["id"], row.member_id)])
            skeleton = prepare(purpose, member.language, context, PERSONAL)
            assert skeleton is not None
            for name in ("Zoë O'Brien & <Partners>", 'A "quoted" name', "Ünïcödé\xa0Name"):
                hostile = {**context, "member": {**context["member"], "name": name}}
                assert skeleton.fill_from(hostile) == render(purpose, member.language, hostile)
            # A value the HTML parser would rewrite is never filled in: render it in full.
            broken = {**context, "member": {**context["member"], "name": "two\r\nlines"}}
            assert skeleton.fill_from(broken) is None
            # Nor is a value that is false where the proof's was true (a template may test it).
            assert skeleton.fill_from({**context, "reply_address": ""}) is None


def test_a_composed_round_is_byte_for_byte_the_rendered_round(ctx) -> None:
    _round(ctx)
    with ctx.uow(readonly=True) as uow:
        rows = list(uow.session.execute(select(t.outbox).order_by(t.outbox.c.id)))
        fast = Composer(ctx, uow)
        slow = Composer(ctx, uow)
        slow._render = lambda row, member, context: render(  # type: ignore[method-assign]
            row.purpose, member.language if member else "en", context
        )
        # The Date header is the time of composing: compare the rest.
        strip = lambda data: b"\r\n".join(  # noqa: E731
            line for line in data.split(b"\r\n") if not line.startswith(b"Date: ")
        )
        assert len(rows) > 4
        (fast_messages, fast_failed), (slow_messages, slow_failed) = (
            fast.compose_all(rows),
            slow.compose_all(rows),
        )
        assert fast_failed == slow_failed == []
        assert [strip(m.data) for m in fast_messages] == [strip(m.data) for m in slow_messages]
        assert fast._skeletons, "the fast path was not taken"


def test_the_sweep_moves_the_same_rounds_as_visiting_each(ctx) -> None:
    first = _round(ctx)
    second_statement = draft_statement(
        ctx, title="Another statement", kind="awareness-day", body=TEXT + "More.\n"
    ).id
    start_round(
        ctx,
        statement_id=second_statement,
        group="Advisory Group",
        rule="majority",
        deadline=DEADLINE + timedelta(days=20),
    )
    # Two days before the first deadline: its first reminder is due, the second round is quiet.
    soon = Context(
        ctx.settings.model_copy(update={"now": DEADLINE - timedelta(days=2)}), _db=ctx.db
    )
    result = plain_data(sweep_rounds(soon))
    assert result["open_rounds"] == 2
    assert result["closed"] == 0
    assert result["reminders"] == len(_members(ctx, first["id"]))
    assert plain_data(sweep_rounds(soon))["reminders"] == 0  # at most once each
    # After the first deadline: the first round closes, the second stays open.
    later = Context(
        ctx.settings.model_copy(update={"now": DEADLINE + timedelta(hours=1)}), _db=ctx.db
    )
    assert plain_data(sweep_rounds(later)) == {"open_rounds": 2, "closed": 1, "reminders": 0}
    assert plain_data(round_status(ctx, first["id"]))["state"] == "closed"


def _digest_from_every_open_action(ctx: Context) -> dict[str, Any]:
    """The digest as it was built before: every open action loaded and looked at."""
    from collections import Counter

    from accord.services.reminders import DIGEST_LIMIT, STAGES, _action_facts
    from statemachines.actions import TERMINAL

    local = ctx.now().astimezone(ctx.settings.tz)
    today = local.date()
    with ctx.uow(readonly=True) as uow:
        actions = [a for a in uow.actions.list() if a.state not in TERMINAL]
        facts = [_action_facts(a, today) for a in actions]
    overdue = [f for f in facts if f["days"] is not None and f["days"] < 0]
    soon = [f for f in facts if f["days"] is not None and 0 <= f["days"] <= STAGES["14-days"]]
    year, week, _ = local.isocalendar()
    return {
        "week": f"{year}-W{week:02d}",
        "today": today.isoformat(),
        "open": len(actions),
        "states": dict(Counter(a.state for a in actions)),
        "overdue": overdue[:DIGEST_LIMIT],
        "overdue_total": len(overdue),
        "due_soon": soon[:DIGEST_LIMIT],
        "due_soon_total": len(soon),
        "unscheduled": sum(1 for f in facts if f["due"] is None),
    }


def test_the_digest_counted_in_sql_is_the_digest_of_every_open_action(ctx) -> None:
    from sqlalchemy import update

    from accord.services.reminders import remind_actions
    from accord.services.reports import import_report
    from tests.conftest import SAMPLE_REPORT

    import_report(ctx, SAMPLE_REPORT)
    with ctx.uow() as uow:
        ids = sorted(uow.session.scalars(select(t.actions.c.id)))
        assert len(ids) > 10
        uow.session.execute(update(t.actions).where(t.actions.c.id == ids[0]).values(state="done"))
        uow.session.execute(
            update(t.actions).where(t.actions.c.id == ids[1]).values(state="in_progress")
        )
        uow.session.execute(
            update(t.actions).where(t.actions.c.id.in_(ids[2:4])).values(due_on=None)
        )
        uow.commit()
    expected = _digest_from_every_open_action(ctx)
    assert expected["overdue_total"] and expected["unscheduled"] and len(expected["states"]) > 1
    assert remind_actions(ctx).action_digests
    with ctx.uow(readonly=True) as uow:
        [digest] = uow.session.scalars(
            select(t.outbox.c.data).where(t.outbox.c.purpose == "action_digest")
        )
    assert digest == {**expected, "language": "en"}  # no member has the secretariat's address
