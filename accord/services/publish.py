"""Publish an endorsed statement on behalf of those who endorsed it.

Writes under ACCORD_HOME/site: a static page listing the signatories, a JSON certificate (text
hash, round, rule, each endorser and when, and the decision record's head at publication) and
an Atom feed of everything published.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from accord.services.context import Context
from accord.services.outbox import Mail, enqueue
from statemachines import rounds as rules
from statemachines.errors import GuardFailed
from statemachines.records import Group
from statemachines.rounds import Round
from statemachines.statements import Statement
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


@dataclass(frozen=True)
class Signatory:
    """A name on the published page."""

    name: str
    organisation: str | None


@dataclass(frozen=True)
class Published:
    """Where the page and its certificate were written, and who signed
    (`accord statements publish --json`)."""

    path: str
    url: str
    certificate: str
    signatories: tuple[Signatory, ...]
    already_published: bool = False


def publish_statement(ctx: Context, statement_id: int) -> Published:
    now = ctx.now()
    site = ctx.settings.home / "site"
    with ctx.uow() as uow:
        statement = uow.statements.get(statement_id)
        statement.fire("publish")
        rnd = _endorsing_round(uow, statement)
        group = uow.groups.by_id(rnd.group_id)
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
        page = _write_site(site, statement, certificate, ctx.settings.public_url)
        uow.commit()
    return Published(
        path=str(page),
        url=f"{ctx.settings.public_url}/site/{page.name}",
        certificate=str(page.with_suffix(".json")),
        signatories=tuple(Signatory(s["name"], s["organisation"]) for s in signatories),
    )


def _endorsing_round(uow: UnitOfWork, statement: Statement) -> Round:
    for rnd in reversed(uow.rounds.for_statement(statement.id)):
        if rnd.outcome == rules.ENDORSED and rnd.version_number == statement.endorsed_version:
            return rnd
    raise GuardFailed("statement {id} has no round that endorsed its text", id=statement.id)


def _signatories(uow: UnitOfWork, rnd: Round) -> list[dict[str, Any]]:
    return [
        {"name": s.name, "organisation": s.organisation, "endorsed_at": s.decided_at.isoformat()}
        for s in uow.recipients.signatories(rnd.id, rnd.text_sha256)
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
    head = uow.audit.head()
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
    enqueue(
        uow,
        [
            Mail(
                dedupe_key=f"published:{statement.id}:{member.id}",
                purpose="published",
                to_addr=member.email,
                member_id=member.id,
                round_id=rnd.id,
                statement_id=statement.id,
            )
            for member in uow.recipients.deliverable(rnd.id)
        ],
        settings=ctx.settings,
    )


def _write_site(
    site: Path, statement: Statement, certificate: dict[str, Any], public_url: str
) -> Path:
    """Write the page and certificate, then the feed of every certificate; each file is
    replaced atomically."""
    page = site / f"{statement.slug}.html"
    _write_statement(page, certificate)
    _write_feed(site, public_url)
    return page


def _write_statement(page: Path, certificate: dict[str, Any]) -> None:
    env = _site_templates()
    _atomic_write(page, env.get_template("statement.html.j2").render(c=certificate))
    _atomic_write(
        page.with_suffix(".json"), json.dumps(certificate, indent=2, ensure_ascii=False) + "\n"
    )


@dataclass(frozen=True)
class Unpublished:
    """What the decision record keeps of a withdrawn publication."""

    page: str
    certificate_sha256: str
    endorsers_removed: int


def withdraw_publication(
    site: Path, slug: str, *, at: datetime, reason: str, public_url: str
) -> Unpublished | None:
    """Withdraw a published statement from the site: the page says it was withdrawn, when and
    why, and lists no endorsers; the certificate records the withdrawal; the feed's entry is
    updated. Returns what the decision record keeps of it (None: nothing was published)."""
    page = site / f"{slug}.html"
    path = page.with_suffix(".json")
    if not path.is_file():
        return None
    certificate = json.loads(path.read_text(encoding="utf-8"))
    certificate["withdrawal"] = {
        "withdrawn_at": at.isoformat(),
        "reason": reason,
        "endorsers_at_publication": len(certificate["endorsers"]),
    }
    certificate["endorsers"] = []
    _write_statement(page, certificate)
    _write_feed(site, public_url)
    return Unpublished(
        page=page.name,
        certificate_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        endorsers_removed=certificate["withdrawal"]["endorsers_at_publication"],
    )


def _write_feed(site: Path, public_url: str) -> None:
    """The Atom feed of every certificate under `site`, newest change first."""
    certificates = [json.loads(p.read_text(encoding="utf-8")) for p in site.glob("*.json")]
    entries = sorted(map(_feed_entry, certificates), key=lambda e: e["updated"], reverse=True)
    feed = _site_templates().get_template("feed.atom.j2")
    _atomic_write(
        site / "feed.atom",
        feed.render(
            entries=entries,
            updated=entries[0]["updated"] if entries else datetime.now(UTC).isoformat(),
            base=f"{public_url}/site",
        ),
    )


def _feed_entry(certificate: dict[str, Any]) -> dict[str, str]:
    statement, withdrawal = certificate["statement"], certificate.get("withdrawal")
    if withdrawal:
        return {
            "slug": statement["slug"],
            "title": f"Withdrawn: {statement['title']}",
            "updated": withdrawal["withdrawn_at"],
            "summary": f"Withdrawn on {withdrawal['withdrawn_at'][:10]}: {withdrawal['reason']}",
        }
    return {
        "slug": statement["slug"],
        "title": statement["title"],
        "updated": certificate["published_at"],
        "summary": (
            f"Published on behalf of the {len(certificate['endorsers'])} members of "
            f"{certificate['round']['group']} who endorsed it."
        ),
    }


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
