"""Publish an endorsed statement on behalf of those who endorsed it.

Writes under ACCORD_HOME/site: a static page listing the signatories, a JSON certificate (text
hash, round, rule, each endorser and when, and the decision record's head at publication) and
an Atom feed of everything published.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import select

from accord.services.context import Context
from accord.services.outbox import Mail, enqueue
from statemachines import rounds as rules
from statemachines.errors import GuardFailed
from statemachines.records import Group
from statemachines.rounds import Round
from statemachines.statements import Statement
from storage import tables as t
from storage.uow import UnitOfWork


@cache
def _site_templates() -> Environment:
    folder = Path(str(files("templates") / "site"))
    return Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "j2", "atom"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def publish_statement(ctx: Context, statement_id: int) -> dict[str, Any]:
    now = ctx.now()
    site = ctx.settings.home / "site"
    with ctx.uow() as uow:
        statement = uow.statements.get(statement_id)
        statement.fire("publish")
        rnd = _endorsing_round(uow, statement)
        group = uow.session.get(Group, rnd.group_id)
        signatories = _signatories(uow, rnd)
        certificate = _certificate(uow, statement, rnd, group, signatories, now)
        _notify_group(ctx, uow, statement, rnd)
        ctx.record(
            uow,
            entity_type="statement",
            entity_id=statement.id,
            action="publish",
            at=now,
            text_sha256=rnd.text_sha256,
            payload={"round": rnd.id, "signatories": len(signatories)},
        )
        page = _write_site(site, statement, certificate)
        uow.commit()
    url = f"{ctx.settings.public_url}/site/{page.name}"
    return {
        "path": str(page),
        "url": url,
        "certificate": str(page.with_suffix(".json")),
        "signatories": [
            {"name": s["name"], "organisation": s["organisation"]} for s in signatories
        ],
    }


def _endorsing_round(uow: UnitOfWork, statement: Statement) -> Round:
    for rnd in reversed(uow.rounds.for_statement(statement.id)):
        if rnd.outcome == rules.ENDORSED and rnd.version_number == statement.endorsed_version:
            return rnd
    raise GuardFailed(f"statement {statement.id} has no round that endorsed its text")


def _signatories(uow: UnitOfWork, rnd: Round) -> list[dict[str, Any]]:
    query = (
        select(t.members.c.name, t.members.c.organisation, t.recipients.c.decided_at)
        .join(t.members)
        .where(
            t.recipients.c.round_id == rnd.id,
            t.recipients.c.decision == rules.ENDORSE,
            t.recipients.c.decision_sha256 == rnd.text_sha256,
        )
        .order_by(t.members.c.name)
    )
    return [
        {"name": r.name, "organisation": r.organisation, "endorsed_at": r.decided_at.isoformat()}
        for r in uow.session.execute(query)
    ]


def _certificate(
    uow: UnitOfWork,
    statement: Statement,
    rnd: Round,
    group: Group | None,
    signatories: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    version = next(v for v in statement.versions if v.number == rnd.version_number)
    head = uow.session.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)).one()
    return {
        "statement": {
            "id": statement.id,
            "slug": statement.slug,
            "title": statement.title,
            "kind": statement.kind,
            "political": bool(statement.political),
        },
        "text": version.body,
        "text_sha256": version.sha256,
        "version": version.number,
        "round": {
            "id": rnd.id,
            "group": group.name if group else None,
            "rule": rnd.rule,
            "deadline": rnd.deadline.isoformat(),
            "outcome": rnd.outcome,
            "closed_at": rnd.closed_at.isoformat() if rnd.closed_at else None,
        },
        "endorsers": signatories,
        "published_at": now.isoformat(),
        "decision_record": {"entries": head.seq + 1, "head_hash_before_publication": head.hash},
    }


def _notify_group(ctx: Context, uow: UnitOfWork, statement: Statement, rnd: Round) -> None:
    query = (
        select(t.members.c.id, t.members.c.email)
        .join(t.recipients)
        .where(t.recipients.c.round_id == rnd.id, t.members.c.undeliverable.is_(False))
    )
    enqueue(
        uow,
        [
            Mail(
                dedupe_key=f"published:{statement.id}:{member_id}",
                purpose="published",
                to_addr=email,
                member_id=member_id,
                round_id=rnd.id,
                statement_id=statement.id,
            )
            for member_id, email in uow.session.execute(query)
        ],
        settings=ctx.settings,
    )


def _write_site(site: Path, statement: Statement, certificate: dict[str, Any]) -> Path:
    """Write the page and certificate, then the feed of every certificate; each file is
    replaced atomically."""
    env = _site_templates()
    page = site / f"{statement.slug}.html"
    _atomic_write(page, env.get_template("statement.html.j2").render(c=certificate))
    _atomic_write(
        page.with_suffix(".json"), json.dumps(certificate, indent=2, ensure_ascii=False) + "\n"
    )
    entries = sorted(
        (
            {
                "slug": c["statement"]["slug"],
                "title": c["statement"]["title"],
                "updated": c["published_at"],
            }
            for c in (json.loads(p.read_text(encoding="utf-8")) for p in site.glob("*.json"))
        ),
        key=lambda e: e["updated"],
        reverse=True,
    )
    _atomic_write(
        site / "feed.atom",
        env.get_template("feed.atom.j2").render(
            entries=entries, updated=certificate["published_at"]
        ),
    )
    return page


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
