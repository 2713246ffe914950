"""Join the console-accounts and delivery branches into one head.

Revision ID: 0004
Revises: 0003_accounts, 0003_delivery
"""

from __future__ import annotations

revision = "0004"
down_revision = ("0003_accounts", "0003_delivery")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
