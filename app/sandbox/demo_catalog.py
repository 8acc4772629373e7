"""The demo price list of domain.md.

`demo_price_list.json` is what the sandbox publishes (through the same use case and
schema as the admin API); `demo_price_list()` is the same list as Python objects for
the unit tests, which vary its promotions and conventions. A test keeps the two equal.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from app.domain.catalog import ConventionCode, Plan, PriceList, Promotion, SignatureKit

DEMO_PRICE_LIST_ID = "2026-demo"
DEMO_PRICE_LIST_FILE = Path(__file__).with_name("demo_price_list.json")


def demo_plans() -> dict[str, Plan]:
    plans = (
        Plan("STANDARD", "PEC Standard", 1, 2, 0, False, False, 0, 990),
        Plan("PRO", "PEC Pro", 2, None, 3, True, True, 1, 2500),
        Plan("PREMIUM", "PEC Premium", 2, None, 8, True, True, 3, 4000),
        Plan("DOMAIN", "PEC on your own domain", 1, 1, 0, False, False, 0, 990, own_domain=True),
    )
    return {plan.code: plan for plan in plans}


def demo_price_list(
    promotions: tuple[Promotion, ...] = (),
    conventions: tuple[ConventionCode, ...] | None = None,
) -> PriceList:
    """The seed price list; pass promotions to put plans on offer."""
    if conventions is None:
        conventions = (
            ConventionCode(
                "ORDINE-AVVOCATI",
                "Members of the bar: 10% off",
                Decimal("0.10"),
                date(2026, 1, 1),
                date(2027, 12, 31),
            ),
        )
    kits = (
        SignatureKit("SMART_CARD", "Smart card signature kit", 2500),
        SignatureKit("USB_TOKEN", "USB token signature kit", 3500),
    )
    return PriceList(
        id=DEMO_PRICE_LIST_ID,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=None,
        currency="EUR",
        vat_rate=Decimal("0.22"),
        plans=demo_plans(),
        extra_mailbox_gb_yearly_cents=300,
        extra_archive_gb_yearly_cents=300,
        signature_kits={kit.code: kit for kit in kits},
        kit_shipping_cents=990,
        promotions=promotions,
        conventions={c.code: c for c in conventions},
    )
