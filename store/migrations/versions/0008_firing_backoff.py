"""firing backoff: start attempts and the next attempt's time on each firing

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import wendu.store.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("firings", schema=None) as batch_op:
        # Rows from before this revision have no attempts counted; a pending one is due at once
        # (a NULL next attempt means "as soon as the reconciler's cutoff allows").
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("next_attempt_at", wendu.store.models.UTCDateTime(), nullable=True)
        )
        batch_op.create_index("ix_firings_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("firings", schema=None) as batch_op:
        batch_op.drop_index("ix_firings_due")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
