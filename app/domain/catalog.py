"""The price list: plans, extra space, signature kits, promotions, conventions, VAT.

The catalog is data: it is loaded from storage, dated and identified, and the rules
only ever read it. Amounts are integer cents, net of VAT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

MB_PER_GB = 1024


@dataclass(frozen=True, slots=True)
class Plan:
    """A mailbox type (tipologia di casella)."""

    code: str
    name: str
    mailbox_gb: int
    max_mailbox_gb: int | None  # None: no upper bound
    archive_gb: int  # 0: the plan has no security archive
    extra_archive_allowed: bool
    sms_reports: bool
    extra_users: int
    yearly_price_cents: int
    own_domain: bool = False  # PEC on the customer's own domain: no plan change

    @property
    def has_archive(self) -> bool:
        return self.archive_gb > 0

    @property
    def max_extra_mailbox_gb(self) -> int | None:
        """How many extra GB fit under the plan's maximum (None: unbounded)."""
        if self.max_mailbox_gb is None:
            return None
        return self.max_mailbox_gb - self.mailbox_gb


@dataclass(frozen=True, slots=True)
class SignatureKit:
    """A digital-signature kit: sold once per order, shipped."""

    code: str
    name: str
    price_cents: int


@dataclass(frozen=True, slots=True)
class Promotion:
    """A dated promotional yearly price for one plan (renewable for 1–2 years)."""

    plan_code: str
    yearly_price_cents: int
    valid_from: date
    valid_until: date  # inclusive
    max_years: int = 2

    def is_active(self, today: date) -> bool:
        return self.valid_from <= today <= self.valid_until


@dataclass(frozen=True, slots=True)
class ConventionCode:
    """A dated discount (a fraction, 0.10 = 10%) on plan and extra-space lines."""

    code: str
    description: str
    discount_rate: Decimal
    valid_from: date
    valid_until: date  # inclusive

    def is_active(self, today: date) -> bool:
        return self.valid_from <= today <= self.valid_until


@dataclass(frozen=True, slots=True)
class PriceList:
    """One dated, identified version of the catalog."""

    id: str
    valid_from: datetime
    valid_until: datetime | None
    currency: str
    vat_rate: Decimal
    plans: Mapping[str, Plan]
    extra_mailbox_gb_yearly_cents: int
    extra_archive_gb_yearly_cents: int
    signature_kits: Mapping[str, SignatureKit]
    kit_shipping_cents: int
    promotions: tuple[Promotion, ...] = ()
    conventions: Mapping[str, ConventionCode] = field(default_factory=dict)

    def active_promotion(self, plan_code: str, today: date) -> Promotion | None:
        for promotion in self.promotions:
            if promotion.plan_code == plan_code and promotion.is_active(today):
                return promotion
        return None

    def active_convention(self, code: str, today: date) -> ConventionCode | None:
        convention = self.conventions.get(code.strip().upper())
        if convention is None or not convention.is_active(today):
            return None
        return convention

    def is_valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment and (self.valid_until is None or moment < self.valid_until)
