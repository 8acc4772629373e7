"""The price list as `/v1/plans` shows it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.config import JsonDict

from app.domain.calendar import italian_date
from app.domain.catalog import PriceList
from app.routers.v1.money_schema import MoneyOut, eur_example


class PromotionOut(BaseModel):
    """A promotional yearly price for a plan, in force today."""

    plan: str = Field(description="The plan's `code`.")
    yearly_price: MoneyOut = Field(description="Price per year while it runs, before VAT.")
    valid_from: date = Field(description="First day of the promotion (ISO date).")
    valid_until: date = Field(description="Last day of the promotion (ISO date).")
    max_years: int = Field(description="The most years a renewal on promotion may buy.")


class PlanOut(BaseModel):
    """A plan (tipologia) for sale: its space, features and yearly price."""

    code: str = Field(description="Stable code: send it as a quote item's `plan`.")
    name: str = Field(description="Name to show.")
    mailbox_gb: int = Field(description="Mailbox space included, GB.")
    max_mailbox_gb: int | None = Field(
        description="Most mailbox GB with extra space (plan + extra); null: no limit."
    )
    archive_gb: int = Field(description="Archive space included, GB (0: no archive).")
    extra_archive_allowed: bool = Field(description="true: extra archive space can be bought.")
    sms_reports: bool = Field(description="true: SMS delivery reports included.")
    extra_users: int = Field(description="Extra users who can access the mailbox.")
    own_domain: bool = Field(
        description="true: a mailbox on the customer's own domain (keeps its plan, no extra space)."
    )
    yearly_price: MoneyOut = Field(description="List price per year, before VAT.")
    promotion: PromotionOut | None = Field(
        description="The promotion in force for this plan today; null: none."
    )


class SignatureKitOut(BaseModel):
    """A digital signature kit that can be bought with a renewal."""

    code: str = Field(description="Send it as a quote's `signature_kit`.")
    name: str = Field(description="Name to show.")
    price: MoneyOut = Field(description="Price of one kit, before VAT (shipping apart).")


class ExtraSpacePricesOut(BaseModel):
    """Prices of extra space, per GB per year, before VAT."""

    mailbox_gb_yearly: MoneyOut = Field(description="One extra mailbox GB for one year.")
    archive_gb_yearly: MoneyOut = Field(description="One extra archive GB for one year.")


def _plan_example(code: str, name: str, price: str, **features: JsonValue) -> JsonDict:
    return {
        "code": code,
        "name": name,
        "mailbox_gb": 1,
        "max_mailbox_gb": None,
        "archive_gb": 0,
        "extra_archive_allowed": False,
        "sms_reports": False,
        "extra_users": 0,
        "own_domain": False,
        "yearly_price": eur_example(price),
        "promotion": None,
        **features,
    }


_DOMAIN_PROMOTION: JsonDict = {
    "plan": "DOMAIN",
    "yearly_price": eur_example("7.90"),
    "valid_from": "2026-10-26",
    "valid_until": "2027-11-25",
    "max_years": 2,
}
# The sandbox's price list on 2026-11-25 (checked by tests/api/test_openapi_examples_api.py).
PRICE_LIST_EXAMPLE: JsonDict = {
    "id": "2026-demo",
    "valid_from": "2026-01-01T00:00:00Z",
    "valid_until": None,
    "currency": "EUR",
    "vat_rate": "0.22",
    "plans": [
        _plan_example("STANDARD", "PEC Standard", "9.90", max_mailbox_gb=2),
        _plan_example(
            "PRO",
            "PEC Pro",
            "25.00",
            mailbox_gb=2,
            archive_gb=3,
            extra_archive_allowed=True,
            sms_reports=True,
            extra_users=1,
        ),
        _plan_example(
            "PREMIUM",
            "PEC Premium",
            "40.00",
            mailbox_gb=2,
            archive_gb=8,
            extra_archive_allowed=True,
            sms_reports=True,
            extra_users=3,
        ),
        _plan_example(
            "DOMAIN",
            "PEC on your own domain",
            "9.90",
            max_mailbox_gb=1,
            own_domain=True,
            promotion=_DOMAIN_PROMOTION,
        ),
    ],
    "extra_space": {
        "mailbox_gb_yearly": eur_example("3.00"),
        "archive_gb_yearly": eur_example("3.00"),
    },
    "signature_kits": [
        {"code": "SMART_CARD", "name": "Smart card signature kit", "price": eur_example("25.00")},
        {"code": "USB_TOKEN", "name": "USB token signature kit", "price": eur_example("35.00")},
    ],
    "kit_shipping": eur_example("9.90"),
    "promotions": [_DOMAIN_PROMOTION],
}


class PriceListOut(BaseModel):
    """The price list in force: everything a renewal can be priced with."""

    model_config = ConfigDict(json_schema_extra={"examples": [PRICE_LIST_EXAMPLE]})

    id: str = Field(description="The price list's id: a quote's `price_list_id`.")
    valid_from: datetime = Field(description="When it came into force (UTC).")
    valid_until: datetime | None = Field(
        description="When it stops being in force (UTC); null: until a later list takes over."
    )
    currency: str = Field(description="ISO 4217 code of every price: `EUR`.")
    vat_rate: str = Field(
        description="VAT rate as a decimal string (0.22 = 22%).", examples=["0.22"]
    )
    plans: list[PlanOut] = Field(description="The plans for sale.")
    extra_space: ExtraSpacePricesOut = Field(description="Prices of extra space.")
    signature_kits: list[SignatureKitOut] = Field(description="Kits that can be bought.")
    kit_shipping: MoneyOut = Field(
        description="Shipping added once to a quote with a kit, before VAT."
    )
    promotions: list[PromotionOut] = Field(
        description="Promotions in force today (also on their plans)."
    )

    @classmethod
    def of(cls, price_list: PriceList, now: datetime) -> PriceListOut:
        currency = price_list.currency
        today = italian_date(now)

        def money(cents: int) -> MoneyOut:
            return MoneyOut.of(cents, currency)

        promotions = {
            p.plan_code: PromotionOut(
                plan=p.plan_code,
                yearly_price=money(p.yearly_price_cents),
                valid_from=p.valid_from,
                valid_until=p.valid_until,
                max_years=p.max_years,
            )
            for p in price_list.promotions
            if p.is_active(today)
        }
        return cls(
            id=price_list.id,
            valid_from=price_list.valid_from,
            valid_until=price_list.valid_until,
            currency=currency,
            vat_rate=str(price_list.vat_rate),
            plans=[
                PlanOut(
                    code=plan.code,
                    name=plan.name,
                    mailbox_gb=plan.mailbox_gb,
                    max_mailbox_gb=plan.max_mailbox_gb,
                    archive_gb=plan.archive_gb,
                    extra_archive_allowed=plan.extra_archive_allowed,
                    sms_reports=plan.sms_reports,
                    extra_users=plan.extra_users,
                    own_domain=plan.own_domain,
                    yearly_price=money(plan.yearly_price_cents),
                    promotion=promotions.get(plan.code),
                )
                for plan in price_list.plans.values()
            ],
            extra_space=ExtraSpacePricesOut(
                mailbox_gb_yearly=money(price_list.extra_mailbox_gb_yearly_cents),
                archive_gb_yearly=money(price_list.extra_archive_gb_yearly_cents),
            ),
            signature_kits=[
                SignatureKitOut(code=kit.code, name=kit.name, price=money(kit.price_cents))
                for kit in price_list.signature_kits.values()
            ],
            kit_shipping=money(price_list.kit_shipping_cents),
            promotions=list(promotions.values()),
        )
