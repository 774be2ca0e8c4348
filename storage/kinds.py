"""The kinds of statement and what endorsing each means, in English and in French (table
`kinds`; the French column came with migration 0007), as Core statements on a unit of work's
connection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, delete, insert, select

from storage.tables import kinds

# The reply page's query picks the meaning in the member's language as `Kind.meaning_in` does
# (members' languages are stored lower-case, `fr` or `fr-be`; no `%`: the query has parameters).
KIND_MEANING = (
    "CASE WHEN (members.language = 'fr' OR substr(members.language, 1, 3) = 'fr-')"
    " AND kinds.meaning_fr <> '' THEN kinds.meaning_fr ELSE kinds.meaning END"
)


@dataclass(frozen=True)
class Kind:
    name: str
    meaning: str
    meaning_fr: str | None = None

    def meaning_in(self, language: str | None) -> str:
        """The meaning a member reads in `language` (a member's code: `en`, `fr`, `fr-be`):
        English where a kind has no French text yet."""
        french = (language or "").split("-")[0] == "fr"
        return self.meaning_fr if french and self.meaning_fr else self.meaning


class KindStore:
    """Reads and writes of `kinds` inside one transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def all(self) -> list[Kind]:
        query = select(kinds.c.name, kinds.c.meaning, kinds.c.meaning_fr).order_by(kinds.c.name)
        return [Kind(*row) for row in self.connection.execute(query)]

    def meanings(self) -> dict[str, str]:
        """Each kind's English meaning (the columns every schema has: an older database is read
        before `accord init` migrates it)."""
        return dict(self.connection.execute(select(kinds.c.name, kinds.c.meaning)).all())

    def named(self, name: str) -> Kind | None:
        return next((kind for kind in self.all() if kind.name == name), None)

    def put(self, kind: Kind) -> None:
        """Add the kind, or replace what it means."""
        self.connection.execute(delete(kinds).where(kinds.c.name == kind.name))
        self.connection.execute(
            insert(kinds).values(name=kind.name, meaning=kind.meaning, meaning_fr=kind.meaning_fr)
        )

    def add_missing(self, wanted: Sequence[Kind]) -> None:
        """Add the kinds not there yet; a kind that is there keeps what it says."""
        present = set(self.connection.scalars(select(kinds.c.name)))
        missing = [asdict(kind) for kind in wanted if kind.name not in present]
        if missing:
            self.connection.execute(insert(kinds), missing)
