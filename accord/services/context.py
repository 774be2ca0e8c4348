"""What every use-case needs: the settings, the database and the clock."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from accord.config import Settings
from storage.audit import Entry
from storage.uow import Database, UnitOfWork


@dataclass
class Context:
    settings: Settings
    actor: str = "secretariat"
    channel: str = "cli"
    _db: Database | None = field(default=None, repr=False)

    @cached_property
    def db(self) -> Database:
        return self._db or Database(self.settings.db_url)

    @cached_property
    def clock(self) -> Callable[[], datetime]:
        return self.settings.clock()

    def now(self) -> datetime:
        return self.clock()

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return self.db.uow(readonly=readonly)

    def record(
        self,
        uow: UnitOfWork,
        *,
        entity_type: str,
        entity_id: object,
        action: str,
        at: datetime,
        payload: Mapping[str, Any] | None = None,
        text_sha256: str | None = None,
    ) -> Entry:
        """An entry of the decision record, by this context's actor on its channel."""
        return uow.audit.append(
            actor=self.actor,
            channel=self.channel,
            entity_type=entity_type,
            entity_id=entity_id,
            action=action,
            at=at,
            payload=payload,
            text_sha256=text_sha256,
        )
