"""Prefect events from the decision record.

Every transition is an entry of the audit log, whoever made it (a flow, the CLI, the reply app,
the IMAP poller). After its service returns, a flow turns the entries it has not announced yet into
events: `accord.round.started`, `accord.statement.circulated`, `accord.round.closed`,
`accord.statement.endorsed`, `accord.statement.published`, ... A cursor kept in a Prefect variable
(one per accord database) says how far it got, with that entry's hash: a cursor that no longer
matches the record (a database replaced under the same URL) starts again from the beginning.
Each event's id is derived from its entry's hash, so two flows announcing the same entry make one
event (the server and the automations drop the repeat).

Members' individual answers are not announced: they name a person, and a round of 10,000 would
bury the transitions operators watch.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prefect import get_run_logger
from prefect.events import emit_event
from prefect.variables import Variable

from accord.services.context import Context
from accord.services.operations import (
    RoundFacts,
    Transition,
    audit_hash,
    round_facts,
    transitions_since,
)
from flows.support import blocking, slug

CURSOR_PREFIX = "accord-events-"
NAMESPACE = uuid.UUID("6f1c1d0e-9d0b-4b4e-9a57-3c1f4f1c5a10")
PAST = {
    "assess": "assessed",
    "close": "closed",
    "complete": "completed",
    "configure": "configured",
    "draft": "drafted",
    "drop": "dropped",
    "import": "imported",
    "publish": "published",
    "reject": "rejected",
    "reopen": "reopened",
    "revise": "revised",
    "start": "started",
    "withdraw": "withdrawn",
}


@dataclass(frozen=True)
class Announcement:
    event: str
    resource: dict[str, str]
    related: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)


async def announce_transitions(ctx: Context) -> int:
    """Emit the events for every transition since the cursor; return how many."""
    name = cursor_name(ctx)
    cursor = await _read_cursor(ctx, name)
    emitted = 0
    while batch := await blocking(transitions_since, ctx, cursor):
        rounds: dict[int, RoundFacts] = {}
        for entry in batch:
            facts = await _round_of(ctx, entry, rounds)
            for index, item in enumerate(announcements(entry, facts)):
                emit_event(
                    event=item.event,
                    resource=item.resource,
                    related=item.related,
                    payload=item.payload,
                    id=uuid.uuid5(NAMESPACE, f"{entry.hash}:{index}"),
                )
                emitted += 1
        cursor = batch[-1].seq
        await Variable.aset(name, {"seq": cursor, "hash": batch[-1].hash}, overwrite=True)
    if emitted:
        get_run_logger().info("announced %d event(s), up to audit entry %d", emitted, cursor)
    return emitted


def cursor_name(ctx: Context) -> str:
    """`accord-events-<digest of the database URL>`: accord databases sharing a Prefect server
    keep their own cursors (the URL's password is not in the digest's input)."""
    from sqlalchemy.engine import make_url

    url = make_url(ctx.settings.db_url).render_as_string(hide_password=True)
    return f"{CURSOR_PREFIX}{hashlib.sha256(url.encode()).hexdigest()[:16]}"


async def _read_cursor(ctx: Context, name: str) -> int:
    saved = await Variable.aget(name, default=None)
    if not isinstance(saved, dict):
        return 0
    seq, expected = int(saved.get("seq", 0)), saved.get("hash")
    return seq if await blocking(audit_hash, ctx, seq) == expected else 0


async def _round_of(
    ctx: Context, entry: Transition, seen: dict[int, RoundFacts]
) -> RoundFacts | None:
    if entry.entity_type != "round":
        return None
    round_id = int(entry.entity_id)
    if round_id not in seen:
        seen[round_id] = await blocking(round_facts, ctx, round_id)
    return seen[round_id]


def announcements(entry: Transition, rnd: RoundFacts | None) -> Iterator[Announcement]:
    """The events one audit entry stands for (pure: tested without Prefect)."""
    base = {"audit_seq": entry.seq, **entry.payload}
    if rnd is None:
        yield Announcement(
            f"accord.{entry.entity_type}.{PAST.get(entry.action, entry.action)}",
            _resource(entry.entity_type, entry.entity_id),
            payload=base,
        )
        return
    related = [
        _resource("statement", str(rnd.statement_id), role="statement", name=rnd.slug),
        _resource("group", rnd.group, role="group"),
    ]
    labels = {"accord.group": rnd.group, "accord.kind": rnd.kind, "accord.mode": rnd.mode}
    round_resource = {**_resource("round", entry.entity_id), **labels}
    ids = {"round_id": rnd.id, "statement_id": rnd.statement_id}
    verb = PAST.get(entry.action, entry.action)
    yield Announcement(f"accord.round.{verb}", round_resource, related, {**base, **ids})
    statement_event = _statement_event(entry, rnd)
    if statement_event:
        statement = {
            **_resource("statement", str(rnd.statement_id), name=rnd.slug),
            **labels,
            "accord.auto-publish": str(rnd.auto_publish).lower(),
        }
        round_link = _resource("round", entry.entity_id, role="round")
        yield Announcement(statement_event, statement, [round_link, related[1]], {**base, **ids})


def _statement_event(entry: Transition, rnd: RoundFacts) -> str | None:
    if rnd.mode != "endorse":
        return None
    if entry.action == "start":
        return "accord.statement.circulated"
    if entry.action == "close" and entry.payload.get("statement_state") in (
        "endorsed",
        "not_endorsed",
    ):
        return f"accord.statement.{entry.payload['statement_state']}"
    return None


def _resource(
    kind: str, identifier: str, *, role: str | None = None, name: str | None = None
) -> dict[str, str]:
    """`accord.KIND.ID`; an id that is not a number (a group's or a file's name) is slugged,
    and kept as the resource's name."""
    key = identifier if identifier.isdigit() else slug(identifier)
    resource = {"prefect.resource.id": f"accord.{kind}.{key}"}
    if role:
        resource["prefect.resource.role"] = role
    if name or key != identifier:
        resource["prefect.resource.name"] = name or identifier
    return resource
