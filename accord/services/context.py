"""What every use-case needs: the settings, the database and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from accord.config import Settings
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
