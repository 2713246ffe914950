"""notification counts: the daily cap's per-recipient, per-day counter

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Counters start empty: the notifier counts a recipient's day from the stored messages
    # when it first meets that day, so no data is copied here.
    op.create_table(
        "notification_counts",
        sa.Column("recipient_id", sa.String(length=64), nullable=False),
        sa.Column("local_date", sa.String(length=10), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("recipient_id", "local_date"),
    )


def downgrade() -> None:
    op.drop_table("notification_counts")
