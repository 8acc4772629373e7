"""A quote frozen as a JSON document, and back: what was quoted is what is ordered."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.domain import issues as rule_issues
from app.domain.issues import Issue
from app.domain.mailbox import MailboxStatus
from app.domain.plan_change import TakesEffect
from app.domain.pricing import QuoteLine
from app.domain.quote import Quote, QuotedItem

DOCUMENT_VERSION = 1

_ISSUE_TYPES: dict[str, type[Issue]] = {
    cls.code: cls
    for cls in vars(rule_issues).values()
    if isinstance(cls, type) and issubclass(cls, Issue) and cls is not Issue
}


def quote_to_document(quote: Quote) -> dict[str, Any]:
    return {
        "version": DOCUMENT_VERSION,
        "price_list_id": quote.price_list_id,
        "currency": quote.currency,
        "years": quote.years,
        "signature_kit": quote.signature_kit,
        "convention_code": quote.convention_code,
        "net_cents": quote.net_cents,
        "vat_rate": str(quote.vat_rate),
        "vat_cents": quote.vat_cents,
        "total_cents": quote.total_cents,
        "created_at": quote.created_at.isoformat(),
        "valid_until": quote.valid_until.isoformat(),
        "lines": [
            [
                line.kind,
                line.code,
                line.mailbox_id,
                line.quantity,
                line.unit_price_cents,
                line.amount_cents,
            ]
            for line in quote.lines
        ],
        "items": [_item_to_document(item) for item in quote.items],
    }


def quote_from_document(doc: dict[str, Any]) -> Quote:
    return Quote(
        price_list_id=doc["price_list_id"],
        currency=doc["currency"],
        years=doc["years"],
        signature_kit=doc["signature_kit"],
        convention_code=doc["convention_code"],
        items=tuple(_item_from_document(item) for item in doc["items"]),
        lines=tuple(QuoteLine(*line) for line in doc["lines"]),
        net_cents=doc["net_cents"],
        vat_rate=Decimal(doc["vat_rate"]),
        vat_cents=doc["vat_cents"],
        total_cents=doc["total_cents"],
        created_at=datetime.fromisoformat(doc["created_at"]),
        valid_until=datetime.fromisoformat(doc["valid_until"]),
    )


def _item_to_document(item: QuotedItem) -> dict[str, Any]:
    return {
        "mailbox_id": item.mailbox_id,
        "address": item.address,
        "status": item.status.value,
        "current_plan": item.current_plan,
        "target_plan": item.target_plan,
        "extra_mailbox_gb": item.extra_mailbox_gb,
        "extra_archive_gb": item.extra_archive_gb,
        "mailbox_quota_mb": item.mailbox_quota_mb,
        "archive_quota_mb": item.archive_quota_mb,
        "current_expiry": item.current_expiry.isoformat(),
        "new_expiry": item.new_expiry.isoformat(),
        "promotion_applied": item.promotion_applied,
        "downgrade": item.downgrade,
        "takes_effect": item.takes_effect.value,
        "effective_on": None if item.effective_on is None else item.effective_on.isoformat(),
        "issues": [
            {"code": issue.code, "params": _jsonable(issue.params())} for issue in item.issues
        ],
    }


def _item_from_document(doc: dict[str, Any]) -> QuotedItem:
    return QuotedItem(
        mailbox_id=doc["mailbox_id"],
        address=doc["address"],
        status=MailboxStatus(doc["status"]),
        current_plan=doc["current_plan"],
        target_plan=doc["target_plan"],
        extra_mailbox_gb=doc["extra_mailbox_gb"],
        extra_archive_gb=doc["extra_archive_gb"],
        mailbox_quota_mb=doc["mailbox_quota_mb"],
        archive_quota_mb=doc["archive_quota_mb"],
        current_expiry=date.fromisoformat(doc["current_expiry"]),
        new_expiry=date.fromisoformat(doc["new_expiry"]),
        promotion_applied=doc["promotion_applied"],
        issues=tuple(_issue_from_document(i) for i in doc["issues"]),
        # Quotes stored before scheduled changes existed lack both.
        downgrade=bool(doc.get("downgrade", False)),
        takes_effect=TakesEffect(doc.get("takes_effect", TakesEffect.AT_PAYMENT.value)),
        effective_on=date.fromisoformat(doc["effective_on"]) if doc.get("effective_on") else None,
    )


def _issue_from_document(doc: dict[str, Any]) -> Issue:
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in doc["params"].items()}
    return _ISSUE_TYPES[doc["code"]](**params)


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
