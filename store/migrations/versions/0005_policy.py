"""notification policy: the local day a message counts toward the cap, and its digest

Revision ID: 0005_policy
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_policy"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("local_date", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("digest_key", sa.String(length=200), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_notifications_digest_key"), ["digest_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_digest_key"))
        batch_op.drop_column("digest_key")
        batch_op.drop_column("local_date")
