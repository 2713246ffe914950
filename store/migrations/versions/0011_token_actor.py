"""token actor: an API token may be bound to the employee it acts for

Tokens have been stored as sha256 digests since the first schema (`api_tokens.token_hash`),
so there are no plaintext rows to migrate; existing tokens stay integration-wide (NULL).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("actor_id")
