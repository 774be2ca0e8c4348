"""Reads of the decision record for operators: the entries that moved something, as flows
announce them (events), and an entry's hash (to tell where the last announcement stopped).
Writing and verifying the record is storage.audit's."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage import tables as t

_AUDIT = t.audit_log.c


@dataclass(frozen=True)
class Transition:
    """One entry of the decision record that moved something."""

    seq: int
    hash: str
    entity_type: str
    entity_id: str
    action: str
    payload: dict[str, Any]


class TransitionReads:
    def __init__(self, session: Session) -> None:
        self.session = session

    def hash_of(self, seq: int) -> str | None:
        """The hash of entry `seq` (None if there is no such entry)."""
        return self.session.scalar(select(_AUDIT.hash).where(_AUDIT.seq == seq))

    def since(self, seq: int, *, quiet: Sequence[str], limit: int) -> list[Transition]:
        """Up to `limit` entries after `seq`, oldest first, leaving out the actions that start
        with one of the `quiet` prefixes."""
        query = (
            select(
                _AUDIT.seq,
                _AUDIT.hash,
                _AUDIT.entity_type,
                _AUDIT.entity_id,
                _AUDIT.action,
                _AUDIT.payload,
            )
            .where(_AUDIT.seq > seq, ~or_(*(_AUDIT.action.startswith(p) for p in quiet)))
            .order_by(_AUDIT.seq)
            .limit(limit)
        )
        rows = self.session.execute(query)
        return [
            Transition(number, hash_, entity_type, entity_id, action, json.loads(payload))
            for number, hash_, entity_type, entity_id, action, payload in rows
        ]
