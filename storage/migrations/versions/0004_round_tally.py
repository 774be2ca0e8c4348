"""rounds.tally_*: each round keeps the tally of its recipients' current answers

An answer then moves the round's counts instead of recounting every recipient of the round.
Existing rounds are counted once here, as `statemachines.rounds.tally` counts: `support` with
`endorse`, `concerns` with `decline`, no answer as pending.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = ("endorse", "decline", "abstain", "pending")
# Which recipients each count takes (SQL over `recipients.decision`).
COUNTED = {
    "endorse": "decision IN ('endorse', 'support')",
    "decline": "decision IN ('decline', 'concerns')",
    "abstain": "decision = 'abstain'",
    "pending": "decision IS NULL OR decision NOT IN "
    "('endorse', 'support', 'decline', 'concerns', 'abstain')",
}


def upgrade() -> None:
    with op.batch_alter_table("rounds") as batch:
        for key in KEYS:
            batch.add_column(
                sa.Column(f"tally_{key}", sa.Integer(), nullable=False, server_default="0")
            )
    op.execute(recount_sql())


def recount_sql() -> str:
    """One UPDATE setting every round's counts from its recipients."""
    sets = ", ".join(
        f"tally_{key} = (SELECT COUNT(*) FROM recipients "
        f"WHERE recipients.round_id = rounds.id AND ({COUNTED[key]}))"
        for key in KEYS
    )
    return f"UPDATE rounds SET {sets}"


def downgrade() -> None:
    with op.batch_alter_table("rounds") as batch:
        for key in KEYS:
            batch.drop_column(f"tally_{key}")
