"""Quote requests and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict
from pydantic_core import to_json

from app.domain.quote import MAX_ITEMS, Quote, QuotedItem, RenewalItem, RenewalRequest
from app.domain.quote_record import QuoteRecord
from app.routers.v1.fields import Code, ExtraGigabytes, Identifier, Years
from app.routers.v1.issue_schema import IssueOut, issue_values
from app.routers.v1.money_schema import MoneyOut, eur_example, money_values


class QuoteItemIn(BaseModel):
    """One mailbox to renew, and what to change in it for the new period."""

    model_config = ConfigDict(strict=True, extra="forbid")

    mailbox_id: Identifier = Field(
        description="The mailbox's `id` (from `GET /v1/mailboxes`).", examples=["mbx-premium"]
    )
    plan: Code | None = Field(
        default=None,
        description="Target plan's `code` (from `GET /v1/plans`); omitted or null: unchanged.",
        examples=["STANDARD"],
    )
    extra_mailbox_gb: ExtraGigabytes | None = Field(
        default=None,
        description="Extra mailbox space for the new period, in GB (0–1000) on top of the "
        "plan's; omitted or null: the mailbox's current extra GB.",
    )
    extra_archive_gb: ExtraGigabytes | None = Field(
        default=None,
        description="Extra archive space for the new period, in GB (0–1000), where the plan "
        "allows it; omitted or null: the mailbox's current extra GB.",
    )


# The sandbox's PREMIUM mailbox downgraded to STANDARD with 1 extra GB (domain.md).
QUOTE_IN_EXAMPLE: JsonDict = {
    "years": 1,
    "items": [{"mailbox_id": "mbx-premium", "plan": "STANDARD", "extra_mailbox_gb": 1}],
}


class QuoteIn(BaseModel):
    """What to price: one or more mailboxes renewed together for the same years."""

    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"examples": [QUOTE_IN_EXAMPLE]}
    )

    years: Years = Field(
        description="Years to renew for, 1–5 (a plan on promotion: at most its `max_years`)."
    )
    items: list[QuoteItemIn] = Field(
        min_length=1,
        max_length=MAX_ITEMS,
        description=f"The mailboxes to renew, each once (1–{MAX_ITEMS}).",
    )
    signature_kit: Code | None = Field(
        default=None,
        description="A signature kit's `code` to buy with the renewal (from `GET /v1/plans`), "
        "shipping added; omitted or null: none.",
        examples=["SMART_CARD"],
    )
    convention_code: Code | None = Field(
        default=None,
        description="A convention's code for its discount on the net (422 "
        "`convention_code_invalid` if unknown or not in force); omitted or null: none.",
        examples=["ORDINE-AVVOCATI"],
    )

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
    """One priced line of the quote, as the invoice will show it."""

    kind: Literal[
        "plan",
        "extra_mailbox_space",
        "extra_archive_space",
        "signature_kit",
        "shipping",
        "convention_discount",
    ] = Field(
        description="What the line charges: a plan's years, extra GB-years of mailbox or "
        "archive space, a signature kit, its shipping, or a convention's discount "
        "(a negative amount)."
    )
    code: str = Field(
        description="The plan's, kit's or convention's code; for space and shipping the "
        "`kind` again.",
        examples=["STANDARD"],
    )
    mailbox_id: str | None = Field(
        description="The mailbox the line belongs to; null for a kit, shipping or discount."
    )
    quantity: int = Field(
        description="Units charged: years for a plan, GB × years for extra space, 1 otherwise."
    )
    unit_price: MoneyOut = Field(description="Price of one unit, before VAT.")
    amount: MoneyOut = Field(description="`quantity` × `unit_price`, before VAT.")


class QuoteItemOut(BaseModel):
    """One mailbox of the quote: what it becomes, and the rules' verdict on it."""

    mailbox_id: str = Field(description="The mailbox's `id`.")
    address: str = Field(description="The mailbox's PEC address.")
    mailbox_status: str = Field(
        description="The mailbox's status when quoted: `ACTIVE`, `EXPIRED` (in grace), "
        "`DELETED` or `SUSPENDED`.",
        examples=["ACTIVE"],
    )
    current_plan: str = Field(description="The plan's `code` today.")
    plan: str = Field(description="The plan's `code` for the new period.")
    extra_mailbox_gb: int = Field(description="Extra mailbox space for the new period, GB.")
    extra_archive_gb: int = Field(description="Extra archive space for the new period, GB.")
    mailbox_quota_mb: int = Field(
        description="Mailbox space for the new period, MB (plan + extra, 1 GB = 1024 MB)."
    )
    archive_quota_mb: int = Field(
        description="Archive space for the new period, MB (0: no archive)."
    )
    current_expiry: date = Field(description="The day the mailbox expires today (ISO date).")
    new_expiry: date = Field(description="The day it will expire once renewed (ISO date).")
    promotion_applied: bool = Field(
        description="true: the plan is priced at its promotion's yearly price."
    )
    blocked: bool = Field(description="true: this item has blocking `issues`.")
    issues: list[IssueOut] = Field(description="Blocking issues: fix them to order.")
    warnings: list[IssueOut] = Field(description="Never block; show them to the customer.")
    takes_effect: Literal["at_payment", "at_expiry"] = Field(
        description="When the plan and space change: `at_payment` (an upgrade, no change, "
        "or a mailbox already expired), or `at_expiry` (a downgrade: anything taken away "
        "waits, whole, until the current expiry; the archive is deleted then)."
    )
    effective_on: date | None = Field(
        description="The day the change takes effect if paid on the quote's day (ISO date): "
        "the day after `current_expiry` for `at_expiry`, else the quote's day (paid later, "
        "the payment's day). Null only in quotes made before this field existed.",
        examples=["2027-01-25"],
    )

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
            takes_effect=item.takes_effect.value,
            effective_on=item.effective_on,
        )


# What the sandbox answers `QUOTE_IN_EXAMPLE` on 2026-11-25 (checked by
# tests/api/test_openapi_examples_api.py).
QUOTE_OUT_EXAMPLE: JsonDict = {
    "id": "quo_4f1c2a9e8b7d4c6a9e0f1a2b3c4d5e6f",
    "status": "ok",
    "price_list_id": "2026-demo",
    "years": 1,
    "signature_kit": None,
    "convention_code": None,
    "created_at": "2026-11-25T10:00:00Z",
    "valid_until": "2026-11-26T10:00:00Z",
    "requires_archive_acknowledgement": True,
    "items": [
        {
            "mailbox_id": "mbx-premium",
            "address": "premium@pec.example.it",
            "mailbox_status": "ACTIVE",
            "current_plan": "PREMIUM",
            "plan": "STANDARD",
            "extra_mailbox_gb": 1,
            "extra_archive_gb": 0,
            "mailbox_quota_mb": 2048,
            "archive_quota_mb": 0,
            "current_expiry": "2027-01-24",
            "new_expiry": "2028-01-24",
            "promotion_applied": False,
            "blocked": False,
            "issues": [],
            "warnings": [
                {
                    "code": "archive_will_be_deleted",
                    "blocking": False,
                    "message": "L'archivio di sicurezza verrà disattivato e tutti i messaggi "
                    "archiviati (5000 MB) saranno cancellati.",
                    "archived_mb": 5000,
                },
                {
                    "code": "features_lost",
                    "blocking": False,
                    "message": "Con la nuova tipologia perderai alcune funzioni "
                    "(notifiche SMS, utenti aggiuntivi).",
                    "features": ["sms_reports", "extra_users"],
                    "extra_users_lost": 3,
                },
            ],
            "takes_effect": "at_expiry",
            "effective_on": "2027-01-25",
        }
    ],
    "lines": [
        {
            "kind": "plan",
            "code": "STANDARD",
            "mailbox_id": "mbx-premium",
            "quantity": 1,
            "unit_price": eur_example("9.90"),
            "amount": eur_example("9.90"),
        },
        {
            "kind": "extra_mailbox_space",
            "code": "extra_mailbox_space",
            "mailbox_id": "mbx-premium",
            "quantity": 1,
            "unit_price": eur_example("3.00"),
            "amount": eur_example("3.00"),
        },
    ],
    "vat_rate": "0.22",
    "net": eur_example("12.90"),
    "vat": eur_example("2.84"),
    "total": eur_example("15.74"),
}


class QuoteOut(BaseModel):
    """A priced renewal, frozen until `valid_until`: order it with `POST /v1/orders`."""

    model_config = ConfigDict(json_schema_extra={"examples": [QUOTE_OUT_EXAMPLE]})

    id: str = Field(description="The quote's id: `quote_id` of an order.")
    status: Literal["ok", "blocked", "expired"] = Field(
        description="`ok`: can be ordered until `valid_until`; `blocked`: an item has "
        "blocking `issues`; `expired`: past `valid_until` (read at the time of the request): "
        "ask for a new quote."
    )
    price_list_id: str = Field(description="The price list the prices come from.")
    years: int = Field(description="Years of renewal, as asked.")
    signature_kit: str | None = Field(description="The kit's `code`, as asked; null: none.")
    convention_code: str | None = Field(description="The convention's code; null: none.")
    created_at: datetime = Field(description="When it was priced (UTC).")
    valid_until: datetime = Field(
        description="Order it before this instant (UTC): prices are frozen until then."
    )
    requires_archive_acknowledgement: bool = Field(
        description="true: an item deletes an archive (see its `archive_will_be_deleted` "
        "warning); the order must send `acknowledge_archive_deletion: true`."
    )
    items: list[QuoteItemOut] = Field(description="One per mailbox, in the order asked.")
    lines: list[QuoteLineOut] = Field(description="What is charged, line by line.")
    vat_rate: str = Field(
        description="The VAT rate as a decimal string (0.22 = 22%).", examples=["0.22"]
    )
    net: MoneyOut = Field(description="Sum of the lines, before VAT.")
    vat: MoneyOut = Field(description="VAT on `net`.")
    total: MoneyOut = Field(description="`net` + `vat`: what the order will cost.")

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


def quote_json(record: QuoteRecord, language: str, now: datetime) -> bytes:
    """`QuoteOut.of(record, language, now)` as FastAPI would send it, byte for byte,
    without building and validating the models: plain values in the models' field order,
    serialized by pydantic's own encoder (the same dates, escapes and separators).

    POST /v1/quotes answers with it: the models cost a quote about as much CPU as its
    two statements (issue 10). tests/unit/test_quote_json.py holds it to the models.
    """
    quote = record.quote
    currency = quote.currency
    return to_json(
        {
            "id": record.id,
            "status": _status(quote, now),
            "price_list_id": quote.price_list_id,
            "years": quote.years,
            "signature_kit": quote.signature_kit,
            "convention_code": quote.convention_code,
            "created_at": quote.created_at,
            "valid_until": quote.valid_until,
            "requires_archive_acknowledgement": quote.requires_archive_acknowledgement,
            "items": [_item_values(item, language) for item in quote.items],
            "lines": [
                {
                    "kind": line.kind,
                    "code": line.code,
                    "mailbox_id": line.mailbox_id,
                    "quantity": line.quantity,
                    "unit_price": money_values(line.unit_price_cents, currency),
                    "amount": money_values(line.amount_cents, currency),
                }
                for line in quote.lines
            ],
            "vat_rate": str(quote.vat_rate),
            "net": money_values(quote.net_cents, currency),
            "vat": money_values(quote.vat_cents, currency),
            "total": money_values(quote.total_cents, currency),
        }
    )


def _item_values(item: QuotedItem, language: str) -> dict[str, object]:
    """`QuoteItemOut.of`'s fields, in its order."""
    issues: list[dict[str, object]] = []
    warnings: list[dict[str, object]] = []
    for issue in item.issues:
        (issues if issue.blocking else warnings).append(issue_values(issue, language))
    return {
        "mailbox_id": item.mailbox_id,
        "address": item.address,
        "mailbox_status": item.status.value,
        "current_plan": item.current_plan,
        "plan": item.target_plan,
        "extra_mailbox_gb": item.extra_mailbox_gb,
        "extra_archive_gb": item.extra_archive_gb,
        "mailbox_quota_mb": item.mailbox_quota_mb,
        "archive_quota_mb": item.archive_quota_mb,
        "current_expiry": item.current_expiry,
        "new_expiry": item.new_expiry,
        "promotion_applied": item.promotion_applied,
        "blocked": bool(issues),
        "issues": issues,
        "warnings": warnings,
        "takes_effect": item.takes_effect.value,
        "effective_on": item.effective_on,
    }


def _status(quote: Quote, now: datetime) -> Literal["ok", "blocked", "expired"]:
    """Blocked first (no new quote fixes it by itself), then whether it can still be ordered."""
    if quote.blocked:
        return "blocked"
    return "ok" if quote.is_valid_at(now) else "expired"
