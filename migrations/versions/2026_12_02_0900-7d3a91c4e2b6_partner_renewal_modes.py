"""partner renewal modes: tacit (renewed from the credit) or at expiry, per mailbox

Revision ID: 7d3a91c4e2b6
Revises: 7c3f9e2a4b18
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7d3a91c4e2b6"
down_revision: str | None = "7c3f9e2a4b18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_renewal_modes",
        sa.Column("mailbox_id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "mode IN ('tacit', 'at_expiry')", name=op.f("ck_partner_renewal_modes_mode_known")
        ),
        sa.CheckConstraint(
            "years BETWEEN 1 AND 5", name=op.f("ck_partner_renewal_modes_years_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_partner_renewal_modes_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_renewal_modes_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("mailbox_id", name=op.f("pk_partner_renewal_modes")),
    )
    op.create_index(
        "ix_partner_renewal_modes_mode", "partner_renewal_modes", ["mode", "mailbox_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_partner_renewal_modes_mode", table_name="partner_renewal_modes")
    op.drop_table("partner_renewal_modes")
