"""A price list as staff publish it (PUT /v1/admin/price-lists/{id}) and as listed.

The same shape is the file format of `python -m app.catalog publish` and of the
sandbox's demo list, so every way of publishing is validated by this one schema.
Money is a decimal string ("9.90"), rates a decimal fraction ("0.22"): never floats.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from app.db.catalog_repository import PublishedPriceList
from app.domain.catalog import ConventionCode, Plan, Promotion, SignatureKit
from app.domain.price_list_rules import PriceListDraft
from app.routers.v1.fields import (
    DATE_IN_RANGE,
    TIMESTAMP_IN_RANGE,
    ShortText,
    Text,
    WholeNumber,
)
from app.routers.v1.money_schema import MoneyAmountIn, cents_of
from app.services.price_lists import Publication

# Upper case, as customers' codes are matched once upper-cased.
PlanCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,31}$")]
ConventionCodeIn = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,63}$")]
Rate = Annotated[
    str,
    # 0 to 1, to the nearest 0.0001 (trailing zeros allowed): what the price-list rules
    # accept, so the contract says it too.
    StringConstraints(pattern=r"^(0(\.\d{1,4}0{0,2})?|1(\.0{1,6})?)$"),
    Field(examples=["0.22"], description="A fraction: 0.22 is 22%; 0 to 1, to 0.0001."),
]
Gigabytes = Annotated[int, Field(ge=0, le=100_000), WholeNumber]
# Dates the calendar arithmetic handles safely (as for mailbox expiries).
CatalogDate = Annotated[
    date,
    Field(
        strict=False,
        ge=date(2000, 1, 1),
        le=date(2199, 12, 31),
        json_schema_extra=DATE_IN_RANGE,
        description="A day from 2000-01-01 to 2199-12-31.",
    ),
]
_STRICT = ConfigDict(strict=True, extra="forbid")


class PlanIn(BaseModel):
    model_config = _STRICT

    code: PlanCode = Field(
        description="The plan's code, upper case (A–Z, 0–9, _ and -, up to 32): what "
        "mailboxes and quotes name.",
        examples=["STANDARD"],
    )
    name: ShortText = Field(description="The name customers see (up to 120 characters).")
    mailbox_gb: Annotated[int, Field(ge=1, le=100_000), WholeNumber] = Field(
        description="Mailbox space included, in GB."
    )
    max_mailbox_gb: Gigabytes | None = Field(
        description="The most mailbox space, in GB, with extra space bought; null: no upper bound."
    )
    archive_gb: Gigabytes = Field(description="Security archive included, in GB; 0: none.")
    extra_archive_allowed: bool = Field(description="Whether extra archive space may be bought.")
    sms_reports: bool = Field(description="Whether delivery reports by SMS are included.")
    extra_users: Annotated[int, Field(ge=0, le=10_000), WholeNumber] = Field(
        description="Users besides the holder who may use the mailbox."
    )
    yearly_price: MoneyAmountIn = Field(
        description="Price per year, EUR net of VAT: a decimal string with two decimals."
    )
    own_domain: bool = Field(
        default=False, description="PEC on the customer's own domain (default false)."
    )

    def to_domain(self) -> Plan:
        return Plan(
            code=self.code,
            name=self.name,
            mailbox_gb=self.mailbox_gb,
            max_mailbox_gb=self.max_mailbox_gb,
            archive_gb=self.archive_gb,
            extra_archive_allowed=self.extra_archive_allowed,
            sms_reports=self.sms_reports,
            extra_users=self.extra_users,
            yearly_price_cents=cents_of(self.yearly_price),
            own_domain=self.own_domain,
        )


class SignatureKitIn(BaseModel):
    model_config = _STRICT

    code: PlanCode = Field(
        description="The kit's code, upper case: what a quote's `signature_kit` names.",
        examples=["SMART_CARD"],
    )
    name: ShortText = Field(description="The name customers see.")
    price: MoneyAmountIn = Field(
        description="One kit, EUR net of VAT (shipping is `kit_shipping_price`)."
    )


class PromotionIn(BaseModel):
    model_config = _STRICT

    plan: PlanCode = Field(description="The code of the plan on promotion (one of `plans`).")
    yearly_price: MoneyAmountIn = Field(
        description="The promotional price per year, EUR net of VAT."
    )
    valid_from: CatalogDate = Field(description="First day a quote gets it (Italian time).")
    valid_until: CatalogDate = Field(description="Last day a quote gets it, inclusive.")
    max_years: Annotated[int, Field(ge=1, le=5), WholeNumber] = Field(
        default=2,
        description="Renewals of up to this many years get it (1–5, default 2).",
    )


class ConventionIn(BaseModel):
    model_config = _STRICT

    code: ConventionCodeIn = Field(
        description="The code a customer types, upper case (matched case-insensitively).",
        examples=["ORDINE-AVVOCATI"],
    )
    description: Text = Field(description="Who it is for and what it gives, shown to staff.")
    discount_rate: Rate = Field(
        description="The discount on the plan's price: a decimal string fraction, "
        '"0.10" is 10%; 0 to 1, to 0.0001.'
    )
    valid_from: CatalogDate = Field(description="First day it may be used (Italian time).")
    valid_until: CatalogDate = Field(description="Last day it may be used, inclusive.")


def _plan(code: str, name: str, price: str, **features: JsonValue) -> dict[str, JsonValue]:
    return {"code": code, "name": name, "yearly_price": price, **features}


# The sandbox's demo list (app/sandbox/demo_price_list.json) as it could be republished
# for 2027: STANDARD up to 10.90, with a first-quarter promotion on DOMAIN.
PRICE_LIST_EXAMPLE: dict[str, JsonValue] = {
    "valid_from": "2027-01-01T00:00:00+01:00",
    "currency": "EUR",
    "vat_rate": "0.22",
    "plans": [
        _plan("STANDARD", "PEC Standard", "10.90", mailbox_gb=1, max_mailbox_gb=2,
              archive_gb=0, extra_archive_allowed=False, sms_reports=False, extra_users=0),
        _plan("PRO", "PEC Pro", "25.00", mailbox_gb=2, max_mailbox_gb=None, archive_gb=3,
              extra_archive_allowed=True, sms_reports=True, extra_users=1),
        _plan("PREMIUM", "PEC Premium", "40.00", mailbox_gb=2, max_mailbox_gb=None,
              archive_gb=8, extra_archive_allowed=True, sms_reports=True, extra_users=3),
        _plan("DOMAIN", "PEC on your own domain", "9.90", mailbox_gb=1, max_mailbox_gb=1,
              archive_gb=0, extra_archive_allowed=False, sms_reports=False, extra_users=0,
              own_domain=True),
    ],
    "extra_mailbox_gb_yearly_price": "3.00",
    "extra_archive_gb_yearly_price": "3.00",
    "signature_kits": [
        {"code": "SMART_CARD", "name": "Smart card signature kit", "price": "25.00"},
        {"code": "USB_TOKEN", "name": "USB token signature kit", "price": "35.00"},
    ],
    "kit_shipping_price": "9.90",
    "promotions": [
        {
            "plan": "DOMAIN",
            "yearly_price": "7.90",
            "valid_from": "2027-01-01",
            "valid_until": "2027-03-31",
            "max_years": 2,
        }
    ],
    "conventions": [
        {
            "code": "ORDINE-AVVOCATI",
            "description": "Members of the bar: 10% off",
            "discount_rate": "0.10",
            "valid_from": "2026-01-01",
            "valid_until": "2027-12-31",
        }
    ],
}  # fmt: skip


class PriceListIn(BaseModel):
    """A dated price list; amounts net of VAT."""

    model_config = ConfigDict(
        strict=True, extra="forbid", json_schema_extra={"examples": [PRICE_LIST_EXAMPLE]}
    )

    valid_from: AwareDatetime = Field(
        strict=False,
        ge=datetime(2000, 1, 1, tzinfo=UTC),
        le=datetime(2199, 12, 31, tzinfo=UTC),
        json_schema_extra=TIMESTAMP_IN_RANGE,
        description="When it takes over: a timestamp with its offset, years 2001 to 2198.",
    )
    currency: Literal["EUR"] = Field(description="Every amount's currency: EUR only.")
    vat_rate: Rate = Field(description='VAT as a decimal string fraction: "0.22" is 22%.')
    plans: list[PlanIn] = Field(
        max_length=50, description="The plans on sale (at least one, codes unique)."
    )
    extra_mailbox_gb_yearly_price: MoneyAmountIn = Field(
        description="One GB of extra mailbox space for a year, EUR net of VAT."
    )
    extra_archive_gb_yearly_price: MoneyAmountIn = Field(
        description="One GB of extra archive space for a year, EUR net of VAT."
    )
    signature_kits: list[SignatureKitIn] = Field(
        default_factory=list,
        max_length=50,
        description="Digital signature kits a quote may add (default none).",
    )
    kit_shipping_price: MoneyAmountIn = Field(
        description="Shipping of a signature kit, once per order, EUR net of VAT."
    )
    promotions: list[PromotionIn] = Field(
        default_factory=list,
        max_length=200,
        description="Dated promotional prices of plans (default none; one plan's may not overlap).",
    )
    conventions: list[ConventionIn] = Field(
        default_factory=list,
        max_length=200,
        description="Dated discount codes, e.g. for members of a professional body (default none).",
    )

    def to_draft(self, price_list_id: str) -> PriceListDraft:
        return PriceListDraft(
            id=price_list_id,
            valid_from=self.valid_from.astimezone(UTC),
            currency=self.currency,
            vat_rate=Decimal(self.vat_rate),
            plans=tuple(plan.to_domain() for plan in self.plans),
            extra_mailbox_gb_yearly_cents=cents_of(self.extra_mailbox_gb_yearly_price),
            extra_archive_gb_yearly_cents=cents_of(self.extra_archive_gb_yearly_price),
            signature_kits=tuple(
                SignatureKit(k.code, k.name, cents_of(k.price)) for k in self.signature_kits
            ),
            kit_shipping_cents=cents_of(self.kit_shipping_price),
            promotions=tuple(
                Promotion(
                    p.plan, cents_of(p.yearly_price), p.valid_from, p.valid_until, p.max_years
                )
                for p in self.promotions
            ),
            conventions=tuple(
                ConventionCode(
                    c.code, c.description, Decimal(c.discount_rate), c.valid_from, c.valid_until
                )
                for c in self.conventions
            ),
        )


def read_price_list_file(path: Path, price_list_id: str) -> PriceListDraft:
    """The draft a price list file describes: pydantic.ValidationError if malformed."""
    return PriceListIn.model_validate_json(path.read_bytes()).to_draft(price_list_id)


class PublishedPriceListOut(BaseModel):
    id: str = Field(description="The price list's id, as given to the PUT.")
    valid_from: datetime = Field(description="When it takes over (UTC).")
    valid_until: datetime | None = Field(
        description="When it stops applying, where an end is stored; null: until a "
        "later-dated list takes over (lists published here have no end)."
    )
    published_by: str | None = Field(
        description="Who published it: the staff member's id (`sandbox` for the demo list); "
        "null for lists loaded before this was recorded."
    )
    published_at: datetime | None = Field(
        description="When it was published or last replaced (UTC); null as `published_by`."
    )
    in_force: bool = Field(description="Whether it is the list quotes use now.")
    replaceable: bool = Field(
        description="Not yet in force: a PUT may still replace it (false once in force)."
    )

    @classmethod
    def of(
        cls, summary: PublishedPriceList, in_force: bool, now: datetime
    ) -> PublishedPriceListOut:
        return cls(
            id=summary.id,
            valid_from=summary.valid_from,
            valid_until=summary.valid_until,
            published_by=summary.published_by,
            published_at=summary.published_at,
            in_force=in_force,
            replaceable=summary.valid_from > now,
        )


# What the sandbox answers to PRICE_LIST_EXAMPLE, published on 2026-12-01 as `2027-h1`.
_NEW_LIST: dict[str, JsonValue] = {
    "id": "2027-h1",
    "valid_from": "2026-12-31T23:00:00Z",
    "valid_until": None,
    "published_by": "staff-helpdesk",
    "published_at": "2026-12-01T17:45:33.553926Z",
    "in_force": False,
    "replaceable": True,
}


class PublicationOut(PublishedPriceListOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_NEW_LIST, "outcome": "created"}]})

    outcome: Literal["created", "replaced", "unchanged"] = Field(
        description="What the PUT did: `created` (201), `replaced` a list not yet in force, "
        "or nothing (`unchanged`: the same body again)."
    )

    @classmethod
    def of_publication(cls, done: Publication, now: datetime) -> PublicationOut:
        listed = PublishedPriceListOut.of(done.price_list, done.in_force, now)
        return cls(**listed.model_dump(), outcome=done.outcome.value)


class PublishedPriceListsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        _NEW_LIST,
                        {
                            "id": "2026-demo",
                            "valid_from": "2026-01-01T00:00:00Z",
                            "valid_until": None,
                            "published_by": "sandbox",
                            "published_at": "2026-12-01T17:45:04.779471Z",
                            "in_force": True,
                            "replaceable": False,
                        },
                    ]
                }
            ]
        }
    )

    items: list[PublishedPriceListOut] = Field(
        description="Every published list, latest valid_from first (there are few: no paging)"
    )
