"""recipients.asked_at and smtp_budget: reminders spaced from the request, one sending budget

`recipients.asked_at` is when the member was last asked (invitation, or the revision that asked
again), on accord's clock: reminder points before it are skipped, and no reminder comes within
ACCORD_REMINDER_MIN_GAP_HOURS of it. Existing recipients take their round's creation time.

`smtp_budget` holds one row: the messages granted in the current minute and day, and a pause set
when the server throttles, shared by every sender (accord.services.pacing).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recipients") as batch:
        batch.add_column(sa.Column("asked_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE recipients SET asked_at = "
        "(SELECT rounds.created_at FROM rounds WHERE rounds.id = recipients.round_id)"
    )
    op.create_table(
        "smtp_budget",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("minute_window", sa.BigInteger(), nullable=False),
        sa.Column("minute_sent", sa.Integer(), nullable=False),
        sa.Column("day_window", sa.BigInteger(), nullable=False),
        sa.Column("day_sent", sa.Integer(), nullable=False),
        sa.Column("paused_until", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("smtp_budget")
    with op.batch_alter_table("recipients") as batch:
        batch.drop_column("asked_at")
