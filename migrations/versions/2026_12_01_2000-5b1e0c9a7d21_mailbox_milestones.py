"""mailbox milestones: each time-driven step at most once per mailbox and expiry

Revision ID: 5b1e0c9a7d21
Revises: 49c08364175f
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b1e0c9a7d21"
down_revision: str | None = "49c08364175f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mailbox_milestones",
        sa.Column("mailbox_id", sa.String(length=64), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("milestone", sa.String(length=48), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_mailbox_milestones_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "mailbox_id", "expires_on", "milestone", name=op.f("pk_mailbox_milestones")
        ),
    )


def downgrade() -> None:
    op.drop_table("mailbox_milestones")
