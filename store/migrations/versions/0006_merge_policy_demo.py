"""Join the notification-policy and demo/score-label branches into one head.

Revision ID: 0006
Revises: 0005_policy, 0005_demo
"""

from __future__ import annotations

revision = "0006"
down_revision = ("0005_policy", "0005_demo")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
