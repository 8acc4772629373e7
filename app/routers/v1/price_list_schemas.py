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

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

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

    code: PlanCode
    name: ShortText
    mailbox_gb: Annotated[int, Field(ge=1, le=100_000), WholeNumber]
    max_mailbox_gb: Gigabytes | None = Field(description="null: no upper bound")
    archive_gb: Gigabytes = Field(description="0: no security archive")
    extra_archive_allowed: bool
    sms_reports: bool
    extra_users: Annotated[int, Field(ge=0, le=10_000), WholeNumber]
    yearly_price: MoneyAmountIn
    own_domain: bool = Field(default=False, description="PEC on the customer's own domain")

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

    code: PlanCode
    name: ShortText
    price: MoneyAmountIn


class PromotionIn(BaseModel):
    model_config = _STRICT

    plan: PlanCode
    yearly_price: MoneyAmountIn
    valid_from: CatalogDate
    valid_until: CatalogDate = Field(description="Inclusive")
    max_years: Annotated[int, Field(ge=1, le=5), WholeNumber] = 2


class ConventionIn(BaseModel):
    model_config = _STRICT

    code: ConventionCodeIn
    description: Text
    discount_rate: Rate
    valid_from: CatalogDate
    valid_until: CatalogDate = Field(description="Inclusive")


class PriceListIn(BaseModel):
    """A dated price list; amounts net of VAT."""

    model_config = _STRICT

    valid_from: AwareDatetime = Field(
        strict=False,
        ge=datetime(2000, 1, 1, tzinfo=UTC),
        le=datetime(2199, 12, 31, tzinfo=UTC),
        json_schema_extra=TIMESTAMP_IN_RANGE,
        description="When it takes over: a timestamp with its offset, years 2001 to 2198.",
    )
    currency: Literal["EUR"]
    vat_rate: Rate
    plans: list[PlanIn] = Field(max_length=50)
    extra_mailbox_gb_yearly_price: MoneyAmountIn
    extra_archive_gb_yearly_price: MoneyAmountIn
    signature_kits: list[SignatureKitIn] = Field(default_factory=list, max_length=50)
    kit_shipping_price: MoneyAmountIn
    promotions: list[PromotionIn] = Field(default_factory=list, max_length=200)
    conventions: list[ConventionIn] = Field(default_factory=list, max_length=200)

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
    id: str
    valid_from: datetime
    valid_until: datetime | None
    published_by: str | None
    published_at: datetime | None
    in_force: bool = Field(description="The list quotes use now")
    replaceable: bool = Field(description="Not yet in force: a PUT may still replace it")

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


class PublicationOut(PublishedPriceListOut):
    outcome: Literal["created", "replaced", "unchanged"]

    @classmethod
    def of_publication(cls, done: Publication, now: datetime) -> PublicationOut:
        listed = PublishedPriceListOut.of(done.price_list, done.in_force, now)
        return cls(**listed.model_dump(), outcome=done.outcome.value)


class PublishedPriceListsOut(BaseModel):
    items: list[PublishedPriceListOut] = Field(
        description="Every published list, latest valid_from first (there are few: no paging)"
    )
