"""rule version author: who saved or loaded each version of a rule

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rule_versions", schema=None) as batch_op:
        # Versions stored before this revision have no recorded author (NULL: unknown).
        batch_op.add_column(sa.Column("created_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rule_versions", schema=None) as batch_op:
        batch_op.drop_column("created_by")
