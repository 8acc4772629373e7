"""Rule 8: the quote's lines, net of VAT, and the VAT on their sum."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from app.domain.catalog import ConventionCode, Plan, PriceList
from app.domain.money import percent_of_cents
from app.domain.renewal_rules import SpaceChoice


class QuoteLine(NamedTuple):
    """One priced line. `kind` is stable: plan, extra_mailbox_space,
    extra_archive_space, signature_kit, shipping, convention_discount.

    A NamedTuple, immutable and built in C: a quote builds one or more per mailbox
    (see QuotedItem)."""

    kind: str
    code: str
    mailbox_id: str | None
    quantity: int
    unit_price_cents: int
    amount_cents: int


def vat_cents(net_cents: int, rate: Decimal) -> int:
    """VAT on the order's summed net, rounded half-up to the cent (never per line)."""
    return percent_of_cents(net_cents, rate)


def price_lines(
    catalog: PriceList,
    items: Sequence[tuple[str, Plan, int, SpaceChoice]],
    years: int,
    signature_kit: str | None,
    convention: ConventionCode | None,
) -> tuple[QuoteLine, ...]:
    """Plan and extra space × years per mailbox, the convention discount, the kit once.

    `items` holds, per mailbox, its id, target plan, yearly plan price and space.
    """
    lines: list[QuoteLine] = []
    for mailbox_id, plan, yearly_cents, space in items:
        lines.append(
            QuoteLine("plan", plan.code, mailbox_id, years, yearly_cents, yearly_cents * years)
        )
        for kind, gb, unit in (
            ("extra_mailbox_space", space.extra_mailbox_gb, catalog.extra_mailbox_gb_yearly_cents),
            ("extra_archive_space", space.extra_archive_gb, catalog.extra_archive_gb_yearly_cents),
        ):
            if gb:
                quantity = gb * years
                lines.append(QuoteLine(kind, kind, mailbox_id, quantity, unit, unit * quantity))
    if convention is not None:
        discountable = sum(line.amount_cents for line in lines)
        discount = percent_of_cents(discountable, convention.discount_rate)
        if discount:
            lines.append(
                QuoteLine("convention_discount", convention.code, None, 1, -discount, -discount)
            )
    if signature_kit is not None:
        kit = catalog.signature_kits[signature_kit]
        lines.append(
            QuoteLine("signature_kit", kit.code, None, 1, kit.price_cents, kit.price_cents)
        )
        shipping = catalog.kit_shipping_cents
        lines.append(QuoteLine("shipping", "kit_shipping", None, 1, shipping, shipping))
    return tuple(lines)
