"""partner webhooks: each partner's endpoint, the delivery log and every attempt

Revision ID: 7c3f9e2a4b18
Revises: 5b1e0c9a7d21
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7c3f9e2a4b18"
down_revision: str | None = "5b1e0c9a7d21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_webhook_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column(
            "body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("round_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_deliveries")),
        sa.UniqueConstraint("event_id", name=op.f("uq_partner_webhook_deliveries_event_id")),
    )
    op.create_index(
        "ix_partner_webhook_deliveries_partner",
        "partner_webhook_deliveries",
        ["partner_id", "id"],
        unique=False,
    )
    op.create_table(
        "partner_webhook_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["partner_webhook_deliveries.id"],
            name=op.f("fk_partner_webhook_attempts_delivery_id_partner_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_attempts")),
    )
    op.create_index(
        op.f("ix_partner_webhook_attempts_delivery_id"),
        "partner_webhook_attempts",
        ["delivery_id"],
        unique=False,
    )
    op.create_table(
        "partner_webhook_endpoints",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_webhook_endpoints_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_webhook_endpoints")),
    )


def downgrade() -> None:
    op.drop_table("partner_webhook_endpoints")
    op.drop_index(
        op.f("ix_partner_webhook_attempts_delivery_id"), table_name="partner_webhook_attempts"
    )
    op.drop_table("partner_webhook_attempts")
    op.drop_index("ix_partner_webhook_deliveries_partner", table_name="partner_webhook_deliveries")
    op.drop_table("partner_webhook_deliveries")
