"""Holder and billing data as JSON documents, and back.

One shape everywhere: the order document's `holder`/`billing` and the records on file
(accounts, mailboxes, holder_versions), so an order's data can become the record as is.
"""

from __future__ import annotations

from typing import Any

from app.domain.billing import Billing, EInvoicing, Holder, HolderKind, PublicAdministrationBilling
from app.domain.holder_record import HolderRecord


def fields_of(value: Any) -> dict[str, Any]:
    """A flat dataclass's fields by name. `dataclasses.asdict` gives the same for these
    (their fields are plain values) at several times the cost: it deep-copies each one."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def holder_to_document(holder: Holder) -> dict[str, Any]:
    return {**fields_of(holder), "kind": holder.kind.value}


def billing_to_document(billing: Billing) -> dict[str, Any]:
    einvoicing, pa = billing.e_invoicing, billing.public_administration
    return {
        "e_invoicing": None if einvoicing is None else fields_of(einvoicing),
        "public_administration": None if pa is None else fields_of(pa),
    }


def holder_from_document(document: dict[str, Any]) -> Holder:
    return Holder(**{**document, "kind": HolderKind(document["kind"])})


def billing_from_document(document: dict[str, Any] | None) -> Billing:
    if not document:
        return Billing()
    einvoicing = document.get("e_invoicing")
    pa = document.get("public_administration")
    return Billing(
        EInvoicing(**einvoicing) if einvoicing else None,
        PublicAdministrationBilling(**pa) if pa else None,
    )


def record_from_documents(
    holder: dict[str, Any] | None, billing: dict[str, Any] | None
) -> HolderRecord | None:
    """The record stored in a row's holder/billing columns; None when there is none."""
    if holder is None:
        return None
    return HolderRecord(holder_from_document(holder), billing_from_document(billing))


def record_to_documents(record: HolderRecord | None) -> dict[str, Any]:
    """The holder/billing column values for `record` (both None: no record)."""
    if record is None:
        return {"holder": None, "billing": None}
    return {
        "holder": holder_to_document(record.holder),
        "billing": billing_to_document(record.billing),
    }
