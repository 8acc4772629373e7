"""saved payment methods: what an automatic renewal charges

Revision ID: a7c3e2f91b40
Revises: 7d3f2a1c9e84
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e2f91b40"
down_revision: str | None = "7d3f2a1c9e84"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_payment_methods",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("customer_ref", sa.String(length=255), nullable=False),
        sa.Column("method_ref", sa.String(length=255), nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_saved_payment_methods_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_payment_methods")),
    )
    op.create_index(
        op.f("ix_saved_payment_methods_account_id"),
        "saved_payment_methods",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        "uq_saved_payment_methods_account_method",
        "saved_payment_methods",
        ["account_id", "provider", "method_ref"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_saved_payment_methods_account_method", table_name="saved_payment_methods")
    op.drop_index(op.f("ix_saved_payment_methods_account_id"), table_name="saved_payment_methods")
    op.drop_table("saved_payment_methods")
