"""What endorsing a kind means, in English and in French: members read it in their language
(English when a kind has no French text), on SQLite and PostgreSQL; the CLI sets both."""

from __future__ import annotations

import json
from datetime import timedelta
from email import message_from_bytes, policy

from sqlalchemy import select

from accord.services.answering import finished, reply_page
from accord.services.composing import Composer
from accord.services.context import Context
from accord.services.groups import list_kinds, set_kind
from accord.services.members import import_members
from accord.services.rounds import start_round
from accord.services.setup import DEFAULT_KINDS
from accord.services.statements import draft_statement
from accord.services.status import RoundDocument
from storage import tables as t
from storage.answers import SyncAnswerStore
from tests.cli import run
from tests.conftest import FIXED_NOW, FIXTURES
from tests.links import member_token

DEADLINE = FIXED_NOW + timedelta(days=10)
GREGORY = "gregory.jaquet@example.org"  # language fr
BARRY = "barry.cusack@example.org"  # en
GEMMA = "gemma.pinyol@example.org"  # es: no French, no Spanish meaning, so English
FRENCH = DEFAULT_KINDS["awareness-day"].meaning_fr
ENGLISH = DEFAULT_KINDS["awareness-day"].meaning


def _round(ctx: Context, kind: str = "awareness-day") -> RoundDocument:
    import_members(ctx, FIXTURES / "members.csv")
    statement = draft_statement(ctx, title="Migrants Day", kind=kind, body="We recall...\n")
    args = {"group": "Advisory Group", "rule": "majority", "deadline": DEADLINE}
    return start_round(ctx, statement_id=statement.id, **args)


def _invitations(ctx: Context) -> dict[str, str]:
    """Each member's invitation as it would be sent: the plain-text part, by address."""
    with ctx.uow(readonly=True) as uow:
        rows = list(uow.session.execute(select(t.outbox).where(t.outbox.c.purpose == "invitation")))
        messages, unwritable = Composer(ctx, uow).compose_all(rows)
    assert not unwritable
    found = {}
    for message in messages:
        mail = message_from_bytes(message.data, policy=policy.default)
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        found[message.recipients[0]] = " ".join(text.split())
    return found


def _page_meaning(ctx: Context, rnd: RoundDocument, email: str) -> str:
    with ctx.uow(readonly=True) as uow:
        member_id = uow.members.by_email(email).id  # type: ignore[union-attr]
    token = member_token(
        ctx,
        round_id=rnd.id,
        member_id=member_id,
        text_sha256=rnd.text_sha256,
        deadline=DEADLINE,
    )
    page = finished(reply_page(ctx, SyncAnswerStore(ctx.db, begin=ctx.uow), token))
    return page.statement.kind_meaning


def test_a_french_member_reads_the_meaning_in_french_everyone_else_in_english(ctx) -> None:
    rnd = _round(ctx)
    invitations = _invitations(ctx)
    assert FRENCH and FRENCH in invitations[GREGORY] and ENGLISH not in invitations[GREGORY]
    assert ENGLISH in invitations[BARRY] and ENGLISH in invitations[GEMMA]
    assert _page_meaning(ctx, rnd, GREGORY) == FRENCH
    assert _page_meaning(ctx, rnd, BARRY) == ENGLISH


def test_a_kind_without_french_shows_its_english_meaning_to_french_members(ctx) -> None:
    set_kind(ctx, "joint-letter", "You co-sign a letter to a minister.")
    rnd = _round(ctx, kind="joint-letter")
    assert "You co-sign a letter to a minister." in _invitations(ctx)[GREGORY]
    assert _page_meaning(ctx, rnd, GREGORY) == "You co-sign a letter to a minister."


def test_the_cli_sets_and_lists_both_meanings(ctx) -> None:
    done = run(
        "kinds", "set", "joint-letter", "--meaning", "You co-sign a letter.",
        "--meaning-fr", "Vous cosignez une lettre.",
    )  # fmt: skip
    assert done.code == 0, done.stderr
    listed = json.loads(run("kinds", "list", "--json").stdout)
    joint = next(k for k in listed if k["name"] == "joint-letter")
    assert joint == {
        "name": "joint-letter",
        "meaning": "You co-sign a letter.",
        "meaning_fr": "Vous cosignez une lettre.",
    }
    position = next(k for k in listed if k["name"] == "position")
    assert position["meaning_fr"] == DEFAULT_KINDS["position"].meaning_fr
    # Without --meaning-fr the French text stays; an empty one removes it.
    assert run("kinds", "set", "joint-letter", "--meaning", "You co-sign.").code == 0
    kept = {k.name: k for k in list_kinds(ctx)}["joint-letter"]
    assert (kept.meaning, kept.meaning_fr) == ("You co-sign.", "Vous cosignez une lettre.")
    cleared = run("kinds", "set", "joint-letter", "--meaning", "You co-sign.", "--meaning-fr", "")
    assert cleared.code == 0, cleared.stderr
    assert {k.name: k for k in list_kinds(ctx)}["joint-letter"].meaning_fr is None


def test_a_bad_french_meaning_is_refused_in_one_line_and_changes_nothing(ctx) -> None:
    before = list_kinds(ctx)
    done = run("kinds", "set", "position", "--meaning", "Fine.", "--meaning-fr", "x" * 301)
    assert done.code != 0
    assert done.stderr.strip() == "error: the French meaning is over 300 characters"
    assert list_kinds(ctx) == before
