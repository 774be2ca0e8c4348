"""What the public sees under site/: the page, the JSON certificate and the Atom feed, after
publication and after a withdrawal (issue 17, items 1 and 12)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import feedparser
import httpx
import pytest
from sqlalchemy import select

from accord.services.answering import record_decision
from accord.services.context import Context
from accord.services.members import import_members
from accord.services.publish import publish_statement
from accord.services.results import plain
from accord.services.rounds import close_round, start_round
from accord.services.statement_rounds import withdraw_statement
from accord.services.statements import draft_statement
from storage import tables as t
from tests.conftest import FIXED_NOW, FIXTURES
from tests.servers import serving

SLUG = "international-migrants-day-2023"
ENDORSERS = ("barry", "gemma", "gregory", "ingrid")


def later(ctx: Context, days: int) -> Context:
    return Context(ctx.settings.model_copy(update={"now": FIXED_NOW + timedelta(days)}), _db=ctx.db)


@pytest.fixture
def published(ctx: Context) -> int:
    """A statement endorsed by four of the Advisory Group's seven and published."""
    import_members(ctx, FIXTURES / "members.csv")
    with ctx.uow(readonly=True) as uow:
        ids = {m.email.split(".")[0]: m.id for m in uow.members.list()}
    statement_id = draft_statement(
        ctx, title="International Migrants Day 2023", kind="awareness-day", body="We recall.\n"
    ).id
    rnd = plain(
        start_round(
            ctx,
            statement_id=statement_id,
            group="Advisory Group",
            rule="majority",
            deadline=FIXED_NOW + timedelta(days=10),
        )
    )["id"]
    for name in ENDORSERS:
        record_decision(
            ctx,
            round_id=rnd,
            member_id=ids[name],
            decision="endorse",
            comment="",
            channel="link",
        )
    close_round(ctx, rnd)
    publish_statement(ctx, statement_id)
    return statement_id


def site(ctx: Context) -> Path:
    return ctx.settings.home / "site"


def test_a_withdrawn_statement_is_withdrawn_on_every_published_artefact(
    ctx: Context, published: int
) -> None:
    before = feedparser.parse((site(ctx) / "feed.atom").read_text(encoding="utf-8"))
    withdraw_statement(later(ctx, 3), published, "events overtook it")

    page = (site(ctx) / f"{SLUG}.html").read_text(encoding="utf-8")
    assert "Withdrawn" in page and "events overtook it" in page and "2023-10-04" in page
    for name in ("Barry Cusack", "Gemma Pinyol-Jiménez", "Gregory Jaquet", "City of Bradford"):
        assert name not in page
    assert "on behalf of" not in page and "Endorsed by" not in page

    certificate = json.loads((site(ctx) / f"{SLUG}.json").read_text(encoding="utf-8"))
    assert certificate["endorsers"] == []
    assert certificate["withdrawal"]["reason"] == "events overtook it"
    assert certificate["withdrawal"]["withdrawn_at"].startswith("2023-10-04T09:00")
    assert certificate["withdrawal"]["endorsers_at_publication"] == 4

    feed = feedparser.parse((site(ctx) / "feed.atom").read_text(encoding="utf-8"))
    (entry,) = feed.entries
    assert entry.updated_parsed > before.entries[0].updated_parsed
    assert "withdrawn" in entry.title.lower() and "events overtook it" in entry.summary
    assert feed.feed.updated_parsed == entry.updated_parsed

    with ctx.uow(readonly=True) as uow:
        payload = uow.session.scalars(
            select(t.audit_log.c.payload).where(t.audit_log.c.action == "withdraw")
        ).one()
    recorded = json.loads(payload)["publication"]
    assert recorded["page"] == f"{SLUG}.html" and recorded["endorsers_removed"] == 4
    assert len(recorded["certificate_sha256"]) == 64


def test_the_feed_is_valid_atom_with_author_self_link_and_absolute_entry_links(
    ctx: Context, published: int
) -> None:
    text = (site(ctx) / "feed.atom").read_text(encoding="utf-8")
    feed = feedparser.parse(text)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    base = ctx.settings.public_url
    assert feed.feed.author
    assert {"rel": "self", "href": f"{base}/site/feed.atom"}.items() <= next(
        link for link in feed.feed.links if link.rel == "self"
    ).items()
    (entry,) = feed.entries
    assert entry.link == f"{base}/site/{SLUG}.html"
    assert entry.id and entry.updated_parsed and entry.title == "International Migrants Day 2023"


def test_the_reply_app_serves_a_withdrawn_page_as_gone(ctx: Context, published: int) -> None:
    with serving(ctx.settings) as url:
        assert httpx.get(f"{url}/site/{SLUG}.html").status_code == 200
        withdraw_statement(later(ctx, 3), published, "events overtook it")
        page = httpx.get(f"{url}/site/{SLUG}.html")
        assert page.status_code == 410 and "events overtook it" in page.text
        assert httpx.get(f"{url}/site/{SLUG}.json").status_code == 200  # the record stays
        assert httpx.get(f"{url}/site/feed.atom").status_code == 200
