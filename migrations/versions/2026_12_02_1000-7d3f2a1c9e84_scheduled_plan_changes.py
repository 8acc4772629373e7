"""scheduled plan changes: a paid downgrade waits for the mailbox's expiry

Revision ID: 7d3f2a1c9e84
Revises: 7d3a91c4e2b6
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d3f2a1c9e84"
down_revision: str | None = "7d3a91c4e2b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_plan_changes",
        sa.Column("mailbox_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("plan_code", sa.String(length=32), nullable=False),
        sa.Column("extra_mailbox_gb", sa.Integer(), nullable=False),
        sa.Column("extra_archive_gb", sa.Integer(), nullable=False),
        sa.Column("deletes_archive", sa.Boolean(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_scheduled_plan_changes_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mailbox_id", name=op.f("pk_scheduled_plan_changes")),
    )
    op.create_index(
        op.f("ix_scheduled_plan_changes_effective_on"),
        "scheduled_plan_changes",
        ["effective_on"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_scheduled_plan_changes_effective_on"), table_name="scheduled_plan_changes"
    )
    op.drop_table("scheduled_plan_changes")
