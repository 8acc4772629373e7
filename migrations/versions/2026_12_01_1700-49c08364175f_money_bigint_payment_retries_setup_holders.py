"""money in bigint, payment retries, production setup, holders on file, idempotency records

Revision ID: 49c08364175f
Revises: ecf47badf68e
Create Date: 2026-12-01 17:00:00

Every money column becomes 64-bit (a 32-bit one overflowed at 21 million euros). On
SQLite an INTEGER is already 64-bit, so the type changes are PostgreSQL's only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "49c08364175f"
down_revision: str | None = "ecf47badf68e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MONEY_COLUMNS = {
    "orders": ("net_cents", "vat_cents", "total_cents", "payable_cents", "refunded_cents"),
    "quotes": ("net_cents", "vat_cents", "total_cents"),
    "partners": ("credit_cents",),
    "plans": ("yearly_price_cents",),
    "promotions": ("yearly_price_cents",),
    "signature_kits": ("price_cents",),
    "price_lists": (
        "extra_mailbox_gb_yearly_cents",
        "extra_archive_gb_yearly_cents",
        "kit_shipping_cents",
    ),
}
KEY_COLUMNS = ("orders", "quotes", "partner_credit_movements")


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("owner_role", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", JSON, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "owner_role", "owner_id", "operation", "key", name=op.f("pk_idempotency_records")
        ),
    )
    op.create_table(
        "holder_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("mailbox_id", sa.String(length=64), nullable=True),
        sa.Column("holder", JSON, nullable=True),
        sa.Column("billing", JSON, nullable=True),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_holder_versions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holder_versions")),
    )
    op.create_index(
        op.f("ix_holder_versions_account_id"), "holder_versions", ["account_id"], unique=False
    )
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("holder", JSON, nullable=True))
        batch.add_column(sa.Column("billing", JSON, nullable=True))
        batch.add_column(sa.Column("updated_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("mailboxes") as batch:
        batch.add_column(sa.Column("holder", JSON, nullable=True))
        batch.add_column(sa.Column("billing", JSON, nullable=True))
    with op.batch_alter_table("partners") as batch:
        batch.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch.add_column(
            sa.Column("language", sa.String(length=2), nullable=False, server_default="it")
        )
        batch.add_column(
            sa.Column(
                "low_credit_threshold_cents", sa.BigInteger(), nullable=False, server_default="0"
            )
        )
        batch.add_column(sa.Column("updated_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("price_lists") as batch:
        batch.add_column(sa.Column("published_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("payment_events") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch.alter_column("amount_cents", existing_type=sa.BigInteger(), nullable=True)
        batch.alter_column(
            "currency",
            existing_type=sa.String(length=3),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
    if _is_postgresql():
        for table, columns in MONEY_COLUMNS.items():
            for column in columns:
                op.alter_column(table, column, existing_type=sa.Integer(), type_=sa.BigInteger())
    for table in KEY_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "idempotency_key",
                existing_type=sa.String(length=200),
                type_=sa.String(length=255),
                existing_nullable=True,
            )


def downgrade() -> None:
    for table in KEY_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "idempotency_key",
                existing_type=sa.String(length=255),
                type_=sa.String(length=200),
                existing_nullable=True,
            )
    if _is_postgresql():
        for table, columns in MONEY_COLUMNS.items():
            for column in columns:
                op.alter_column(table, column, existing_type=sa.BigInteger(), type_=sa.Integer())
    with op.batch_alter_table("payment_events") as batch:
        batch.alter_column(
            "currency",
            existing_type=sa.String(length=16),
            type_=sa.String(length=3),
            existing_nullable=False,
        )
        batch.alter_column("amount_cents", existing_type=sa.BigInteger(), nullable=False)
        for column in ("last_error", "next_attempt_at", "first_failed_at", "attempts"):
            batch.drop_column(column)
    with op.batch_alter_table("price_lists") as batch:
        batch.drop_column("published_at")
        batch.drop_column("published_by")
    with op.batch_alter_table("partners") as batch:
        for column in ("updated_at", "updated_by", "low_credit_threshold_cents", "language"):
            batch.drop_column(column)
        batch.drop_column("email")
    with op.batch_alter_table("mailboxes") as batch:
        batch.drop_column("billing")
        batch.drop_column("holder")
    with op.batch_alter_table("accounts") as batch:
        for column in ("updated_at", "updated_by", "billing", "holder"):
            batch.drop_column(column)
    op.drop_index(op.f("ix_holder_versions_account_id"), table_name="holder_versions")
    op.drop_table("holder_versions")
    op.drop_table("idempotency_records")
