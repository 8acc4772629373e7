"""Order aggregate ↔ orders row: state as columns, what was ordered as a JSON document.

The document is written once, when the order is placed, and never rewritten: every
later change (status, dates, refunds) is a column. Its shape is the one stored since
the first orders, so no migration is needed to read them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from app.db.holder_documents import (
    billing_from_document,
    billing_to_document,
    fields_of,
    holder_from_document,
    holder_to_document,
)
from app.db.models import OrderRow
from app.domain.access import Principal, Role
from app.domain.holder_record import HolderRecord
from app.domain.order import Consents, OrderAmounts, OrderStatus, PaymentMethod
from app.domain.order_aggregate import Order
from app.domain.order_items import OrderItem


def order_to_values(order: Order) -> dict[str, Any]:
    """The whole row of a new order (without seq: the database numbers it)."""
    return {
        "id": order.id,
        "owner_role": order.owner.role.value,
        "owner_id": order.owner.subject,
        "quote_id": order.quote_id,
        "payment_method": order.payment_method.value,
        "years": order.years,
        "currency": order.currency,
        "net_cents": order.amounts.net_cents,
        "vat_cents": order.amounts.vat_cents,
        "total_cents": order.amounts.total_cents,
        "payable_cents": order.amounts.payable_cents,
        "language": order.language,
        "created_at": order.created_at,
        "document": _document(order),
        **state_values(order),
    }


def state_values(order: Order) -> dict[str, Any]:
    """The columns an order's methods change."""
    return {
        "status": order.status.value,
        "paid_at": order.paid_at,
        "fulfilled_at": order.fulfilled_at,
        "commitment_at": order.commitment_at,
        "closed_at": order.closed_at,
        "refunded_cents": order.refunded_cents,
    }


def order_from_row(row: OrderRow | Any) -> Order:
    """From an ORM row, or anything with its attributes (a lean repository's record)."""
    document = row.document
    consents = document["consents"]
    return Order(
        id=row.id,
        seq=row.seq,
        owner=Principal(Role(row.owner_role), row.owner_id),
        quote_id=row.quote_id,
        payment_method=PaymentMethod(row.payment_method),
        years=row.years,
        currency=row.currency,
        amounts=OrderAmounts(row.net_cents, row.vat_cents, row.total_cents, row.payable_cents),
        holder=HolderRecord(
            holder_from_document(document["holder"]), billing_from_document(document["billing"])
        ),
        holder_from_file=bool(document.get("holder_from_file", False)),
        consents=Consents(
            consents["terms"], consents["unfair_terms"], consents["privacy"], consents["version"]
        ),
        acknowledge_archive_deletion=bool(document.get("acknowledge_archive_deletion", False)),
        items=tuple(_item(item) for item in document["items"]),
        language=row.language,
        created_at=row.created_at,
        status=OrderStatus(row.status),
        paid_at=row.paid_at,
        fulfilled_at=row.fulfilled_at,
        commitment_at=row.commitment_at,
        closed_at=row.closed_at,
        refunded_cents=row.refunded_cents,
        automatic_renewal=_automatic_renewal(document, PaymentMethod(row.payment_method)),
        placed_automatically=bool(document.get("placed_automatically", False)),
    )


def _automatic_renewal(document: dict[str, Any], method: PaymentMethod) -> bool:
    """Orders placed before the choice existed: card and PayPal turned it on."""
    choice = document.get("automatic_renewal")
    if choice is None:
        return method.turns_auto_renewal_on
    return bool(choice["enabled"])


def _document(order: Order) -> dict[str, Any]:
    return {
        "holder": holder_to_document(order.holder.holder),
        "billing": billing_to_document(order.holder.billing),
        "holder_from_file": order.holder_from_file,
        "consents": {**fields_of(order.consents), "accepted_at": order.created_at.isoformat()},
        "acknowledge_archive_deletion": order.acknowledge_archive_deletion,
        # Recorded like the consents: what was chosen, under which text, and when.
        "automatic_renewal": {
            "enabled": order.automatic_renewal,
            "version": order.consents.version,
            "accepted_at": order.created_at.isoformat(),
        },
        "placed_automatically": order.placed_automatically,
        "items": [
            {
                "mailbox_id": item.mailbox_id,
                "address": item.address,
                "current_plan": item.current_plan,
                "target_plan": item.target_plan,
                "extra_mailbox_gb": item.extra_mailbox_gb,
                "extra_archive_gb": item.extra_archive_gb,
                "deletes_archive": item.deletes_archive,
                "quoted_new_expiry": item.quoted_new_expiry.isoformat(),
                "downgrade": item.downgrade,
                "quoted_effective_on": _iso(item.quoted_effective_on),
            }
            for item in order.items
        ],
    }


def _item(item: dict[str, Any]) -> OrderItem:
    return OrderItem(
        mailbox_id=str(item["mailbox_id"]),
        address=item["address"],
        current_plan=item["current_plan"],
        target_plan=item["target_plan"],
        extra_mailbox_gb=item["extra_mailbox_gb"],
        extra_archive_gb=item["extra_archive_gb"],
        deletes_archive=bool(item["deletes_archive"]),
        quoted_new_expiry=date.fromisoformat(item["quoted_new_expiry"]),
        # Orders placed before scheduled changes existed: only an archive deletion was
        # known to take something away.
        downgrade=bool(item.get("downgrade", item["deletes_archive"])),
        quoted_effective_on=(
            date.fromisoformat(item["quoted_effective_on"])
            if item.get("quoted_effective_on")
            else None
        ),
    )


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
