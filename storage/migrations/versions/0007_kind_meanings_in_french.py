"""kinds.meaning_fr: what endorsing each kind means, in French

Members whose language is French read the meaning of a kind in French (English when a kind has
none). The built-in kinds get their French text here, where their English text is still the one
`accord init` wrote (a meaning the secretariat changed is left for them to translate).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, English meaning as seeded, French meaning): the migration keeps its own copy, as it was.
BUILT_IN = (
    (
        "awareness-day",
        "You add your name to a message that marks an international day and restates the "
        "network's shared values; it asks no one to take a political position.",
        "Vous ajoutez votre nom à un message qui marque une journée internationale et rappelle "
        "les valeurs communes du réseau ; il ne demande à personne de prendre position "
        "politiquement.",
    ),
    (
        "programme-news",
        "You add your name to news about the network's own programme (events, tools, "
        "publications); it takes no position beyond the programme.",
        "Vous ajoutez votre nom à une nouvelle sur le programme du réseau lui-même (événements, "
        "outils, publications) ; elle ne prend aucune position au-delà du programme.",
    ),
    (
        "position",
        "You add your name to a position of the network on a public matter; read it as a "
        "statement you personally stand behind.",
        "Vous ajoutez votre nom à une prise de position du réseau sur une question publique ; "
        "lisez-la comme une déclaration que vous soutenez personnellement.",
    ),
)


def upgrade() -> None:
    with op.batch_alter_table("kinds") as batch:
        batch.add_column(sa.Column("meaning_fr", sa.Text(), nullable=True))
    kinds = sa.table(
        "kinds", sa.column("name"), sa.column("meaning"), sa.column("meaning_fr")
    )
    for name, english, french in BUILT_IN:
        op.execute(
            kinds.update()
            .where(kinds.c.name == name, kinds.c.meaning == english)
            .values(meaning_fr=french)
        )


def downgrade() -> None:
    with op.batch_alter_table("kinds") as batch:
        batch.drop_column("meaning_fr")
