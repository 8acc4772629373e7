"""Rows ↔ domain objects. Rates are stored as basis points, money as cents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, String, literal_column

from app.db.models import (
    ConventionCodeRow,
    MailboxRow,
    PlanRow,
    PriceListRow,
    PromotionRow,
    SignatureKitRow,
)
from app.domain.catalog import ConventionCode, Plan, PriceList, Promotion, SignatureKit
from app.domain.mailbox import Mailbox, MailboxStatus

BASIS_POINTS = Decimal(10_000)
# The domain's field names are the columns' names: one list maps both ways.
PLAN_FIELDS = tuple(f.name for f in fields(Plan))
MAILBOX_FIELDS = tuple(f.name for f in fields(Mailbox))
# What a read of mailboxes selects: a Mailbox field without its column fails here, at
# import, on every database, not at run time on one of them.
MAILBOX_COLUMNS = tuple(MailboxRow.__table__.c[name] for name in MAILBOX_FIELDS)
# A mailbox row's version: PostgreSQL gives every new version of a row a new xmin (a lock
# alone doesn't), so an unchanged xmin is an unchanged row. An order's one write and a
# quote priced from remembered mailboxes check it.
MAILBOX_ROW_VERSION = literal_column(f"{MailboxRow.__tablename__}.xmin::text", String)


def rate_from_bp(bp: int) -> Decimal:
    return Decimal(bp) / BASIS_POINTS


def rate_to_bp(rate: Decimal) -> int:
    bp = rate * BASIS_POINTS
    if bp != bp.to_integral_value():
        raise ValueError(f"rate {rate} is finer than a basis point")
    return int(bp)


def price_list_from_rows(
    row: PriceListRow,
    plans: Sequence[PlanRow],
    kits: Sequence[SignatureKitRow],
    promotions: Sequence[PromotionRow],
    conventions: Sequence[ConventionCodeRow],
) -> PriceList:
    return PriceList(
        id=row.id,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        currency=row.currency,
        vat_rate=rate_from_bp(row.vat_rate_bp),
        plans={p.code: Plan(**{name: getattr(p, name) for name in PLAN_FIELDS}) for p in plans},
        extra_mailbox_gb_yearly_cents=row.extra_mailbox_gb_yearly_cents,
        extra_archive_gb_yearly_cents=row.extra_archive_gb_yearly_cents,
        signature_kits={k.code: SignatureKit(k.code, k.name, k.price_cents) for k in kits},
        kit_shipping_cents=row.kit_shipping_cents,
        promotions=tuple(
            Promotion(p.plan_code, p.yearly_price_cents, p.valid_from, p.valid_until, p.max_years)
            for p in promotions
        ),
        conventions={
            c.code: ConventionCode(
                c.code,
                c.description,
                rate_from_bp(c.discount_rate_bp),
                c.valid_from,
                c.valid_until,
            )
            for c in conventions
        },
    )


def price_list_to_rows(
    price_list: PriceList,
) -> list[PriceListRow | PlanRow | SignatureKitRow | PromotionRow | ConventionCodeRow]:
    """The rows that store `price_list` (used by the seed and by tests)."""
    pl_id = price_list.id
    rows: list[PriceListRow | PlanRow | SignatureKitRow | PromotionRow | ConventionCodeRow] = [
        PriceListRow(
            id=pl_id,
            valid_from=price_list.valid_from,
            valid_until=price_list.valid_until,
            currency=price_list.currency,
            vat_rate_bp=rate_to_bp(price_list.vat_rate),
            extra_mailbox_gb_yearly_cents=price_list.extra_mailbox_gb_yearly_cents,
            extra_archive_gb_yearly_cents=price_list.extra_archive_gb_yearly_cents,
            kit_shipping_cents=price_list.kit_shipping_cents,
        )
    ]
    rows += [
        PlanRow(price_list_id=pl_id, position=position, **_fields_of(p, PLAN_FIELDS))
        for position, p in enumerate(price_list.plans.values())
    ]
    rows += [
        SignatureKitRow(price_list_id=pl_id, code=k.code, name=k.name, price_cents=k.price_cents)
        for k in price_list.signature_kits.values()
    ]
    rows += [
        PromotionRow(
            price_list_id=pl_id,
            plan_code=p.plan_code,
            yearly_price_cents=p.yearly_price_cents,
            valid_from=p.valid_from,
            valid_until=p.valid_until,
            max_years=p.max_years,
        )
        for p in price_list.promotions
    ]
    rows += [
        ConventionCodeRow(
            price_list_id=pl_id,
            code=c.code,
            description=c.description,
            discount_rate_bp=rate_to_bp(c.discount_rate),
            valid_from=c.valid_from,
            valid_until=c.valid_until,
        )
        for c in price_list.conventions.values()
    ]
    return rows


def mailbox_from_row(row: MailboxRow | Row[Any] | Any) -> Mailbox:
    """From an ORM row, a Core row or anything with the same attributes."""
    return mailbox_from_values(_fields_of(row, MAILBOX_FIELDS))


def mailbox_from_values(values: dict[str, Any]) -> Mailbox:
    """From the MAILBOX_FIELDS of a row read by name (a plain asyncpg record's); the
    dict is consumed."""
    values["status"] = MailboxStatus(values["status"])
    return Mailbox(**values)


def mailbox_to_values(mailbox: Mailbox, now: datetime) -> dict[str, Any]:
    """The mailboxes row for `mailbox`, stamped `now`."""
    values = _fields_of(mailbox, MAILBOX_FIELDS)
    values["status"] = mailbox.status.value
    values["updated_at"] = now
    return values


def _fields_of(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}
