"""Quote requests and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.db.quote_repository import QuoteRecord
from app.domain.quote import MAX_ITEMS, Quote, QuotedItem, RenewalItem, RenewalRequest
from app.routers.v1.fields import Code, ExtraGigabytes, Identifier, Years
from app.routers.v1.issue_schema import IssueOut
from app.routers.v1.money_schema import MoneyOut


class QuoteItemIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    mailbox_id: Identifier
    plan: Code | None = Field(default=None, description="Target plan; default: unchanged.")
    extra_mailbox_gb: ExtraGigabytes | None = Field(
        default=None, description="Extra GB for the new period; default: current."
    )
    extra_archive_gb: ExtraGigabytes | None = Field(default=None)


class QuoteIn(BaseModel):
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"years": 1, "items": [{"mailbox_id": "mbx-standard"}]}]},
    )

    years: Years = Field(description="Renewal frequency (promotions: 1–2).")
    items: list[QuoteItemIn] = Field(min_length=1, max_length=MAX_ITEMS)
    signature_kit: Code | None = None
    convention_code: Code | None = None

    def to_domain(self) -> RenewalRequest:
        return RenewalRequest(
            years=self.years,
            items=tuple(
                RenewalItem(i.mailbox_id, i.plan, i.extra_mailbox_gb, i.extra_archive_gb)
                for i in self.items
            ),
            signature_kit=self.signature_kit,
            convention_code=self.convention_code,
        )


class QuoteLineOut(BaseModel):
    kind: Literal[
        "plan",
        "extra_mailbox_space",
        "extra_archive_space",
        "signature_kit",
        "shipping",
        "convention_discount",
    ]
    code: str
    mailbox_id: str | None
    quantity: int
    unit_price: MoneyOut
    amount: MoneyOut


class QuoteItemOut(BaseModel):
    mailbox_id: str
    address: str
    mailbox_status: str
    current_plan: str
    plan: str
    extra_mailbox_gb: int
    extra_archive_gb: int
    mailbox_quota_mb: int
    archive_quota_mb: int
    current_expiry: date
    new_expiry: date
    promotion_applied: bool
    blocked: bool
    issues: list[IssueOut] = Field(description="Blocking issues: fix them to order.")
    warnings: list[IssueOut] = Field(description="Never block; show them to the customer.")

    @classmethod
    def of(cls, item: QuotedItem, language: str) -> QuoteItemOut:
        return cls(
            mailbox_id=item.mailbox_id,
            address=item.address,
            mailbox_status=item.status.value,
            current_plan=item.current_plan,
            plan=item.target_plan,
            extra_mailbox_gb=item.extra_mailbox_gb,
            extra_archive_gb=item.extra_archive_gb,
            mailbox_quota_mb=item.mailbox_quota_mb,
            archive_quota_mb=item.archive_quota_mb,
            current_expiry=item.current_expiry,
            new_expiry=item.new_expiry,
            promotion_applied=item.promotion_applied,
            blocked=item.blocked,
            issues=[IssueOut.of(i, language) for i in item.blocking_issues],
            warnings=[IssueOut.of(i, language) for i in item.warnings],
        )


class QuoteOut(BaseModel):
    id: str
    status: Literal["ok", "blocked", "expired"] = Field(
        description="`ok`: can be ordered until `valid_until`; `blocked`: an item has "
        "blocking `issues`; `expired`: past `valid_until` (read at the time of the request): "
        "ask for a new quote."
    )
    price_list_id: str
    years: int
    signature_kit: str | None
    convention_code: str | None
    created_at: datetime
    valid_until: datetime
    requires_archive_acknowledgement: bool
    items: list[QuoteItemOut]
    lines: list[QuoteLineOut]
    vat_rate: str = Field(examples=["0.22"])
    net: MoneyOut
    vat: MoneyOut
    total: MoneyOut

    @classmethod
    def of(cls, record: QuoteRecord, language: str, now: datetime) -> QuoteOut:
        quote = record.quote
        currency = quote.currency
        return cls(
            id=record.id,
            status=_status(quote, now),
            price_list_id=quote.price_list_id,
            years=quote.years,
            signature_kit=quote.signature_kit,
            convention_code=quote.convention_code,
            created_at=quote.created_at,
            valid_until=quote.valid_until,
            requires_archive_acknowledgement=quote.requires_archive_acknowledgement,
            items=[QuoteItemOut.of(item, language) for item in quote.items],
            lines=[
                QuoteLineOut(
                    kind=line.kind,
                    code=line.code,
                    mailbox_id=line.mailbox_id,
                    quantity=line.quantity,
                    unit_price=MoneyOut.of(line.unit_price_cents, currency),
                    amount=MoneyOut.of(line.amount_cents, currency),
                )
                for line in quote.lines
            ],
            vat_rate=str(quote.vat_rate),
            net=MoneyOut.of(quote.net_cents, currency),
            vat=MoneyOut.of(quote.vat_cents, currency),
            total=MoneyOut.of(quote.total_cents, currency),
        )


def _status(quote: Quote, now: datetime) -> Literal["ok", "blocked", "expired"]:
    """Blocked first (no new quote fixes it by itself), then whether it can still be ordered."""
    if quote.blocked:
        return "blocked"
    return "ok" if quote.is_valid_at(now) else "expired"
