"""decisions: the decision log (every firing, and every match held back, with its inputs)

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from wendu.store.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(length=128), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("rule_digest", sa.String(length=64), nullable=False),
        sa.Column("employee_id", sa.String(length=64), nullable=True),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("dedupe_key", sa.String(length=300), nullable=False),
        sa.Column("workflow_id", sa.String(length=500), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_decisions_rule_at", "decisions", ["rule_id", "occurred_at"])
    op.create_index("ix_decisions_employee_at", "decisions", ["employee_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_decisions_employee_at", table_name="decisions")
    op.drop_index("ix_decisions_rule_at", table_name="decisions")
    op.drop_table("decisions")
