"""The price list as `/v1/plans` shows it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from app.domain.calendar import italian_date
from app.domain.catalog import PriceList
from app.routers.v1.money_schema import MoneyOut


class PromotionOut(BaseModel):
    plan: str
    yearly_price: MoneyOut
    valid_from: date
    valid_until: date
    max_years: int


class PlanOut(BaseModel):
    code: str
    name: str
    mailbox_gb: int
    max_mailbox_gb: int | None
    archive_gb: int
    extra_archive_allowed: bool
    sms_reports: bool
    extra_users: int
    own_domain: bool
    yearly_price: MoneyOut
    promotion: PromotionOut | None


class SignatureKitOut(BaseModel):
    code: str
    name: str
    price: MoneyOut


class ExtraSpacePricesOut(BaseModel):
    mailbox_gb_yearly: MoneyOut
    archive_gb_yearly: MoneyOut


class PriceListOut(BaseModel):
    id: str
    valid_from: datetime
    valid_until: datetime | None
    currency: str
    vat_rate: str
    plans: list[PlanOut]
    extra_space: ExtraSpacePricesOut
    signature_kits: list[SignatureKitOut]
    kit_shipping: MoneyOut
    promotions: list[PromotionOut]

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
