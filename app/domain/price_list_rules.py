"""What a price list must satisfy before it is published (domain.md, "Price lists").

A draft keeps the order the publisher gave (plans are shown in that order) and any
duplicate codes, so the checks can name the offending entry the way the publisher
wrote it: `plans[1].max_mailbox_gb`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.domain.catalog import ConventionCode, Plan, PriceList, Promotion, SignatureKit
from app.domain.errors import FieldError, InvalidRequest, known_codes

# Rates are kept to a hundredth of a percent (basis points): 0.2215 is fine, 0.22155 not.
RATE_STEP = Decimal("0.0001")


class InvalidPriceList(InvalidRequest):
    """The price list breaks a publishing rule; `errors` names every offending field."""


@dataclass(frozen=True, slots=True)
class PriceListDraft:
    """A price list as submitted for publishing, before the rules have passed it."""

    id: str
    valid_from: datetime
    currency: str
    vat_rate: Decimal
    plans: tuple[Plan, ...]
    extra_mailbox_gb_yearly_cents: int
    extra_archive_gb_yearly_cents: int
    signature_kits: tuple[SignatureKit, ...]
    kit_shipping_cents: int
    promotions: tuple[Promotion, ...] = ()
    conventions: tuple[ConventionCode, ...] = ()

    def to_price_list(self) -> PriceList:
        """The price list it describes (valid until a later one takes over)."""
        return PriceList(
            id=self.id,
            valid_from=self.valid_from,
            valid_until=None,
            currency=self.currency,
            vat_rate=self.vat_rate,
            plans={plan.code: plan for plan in self.plans},
            extra_mailbox_gb_yearly_cents=self.extra_mailbox_gb_yearly_cents,
            extra_archive_gb_yearly_cents=self.extra_archive_gb_yearly_cents,
            signature_kits={kit.code: kit for kit in self.signature_kits},
            kit_shipping_cents=self.kit_shipping_cents,
            promotions=self.promotions,
            conventions={c.code: c for c in self.conventions},
        )


def publishing_problems(draft: PriceListDraft) -> list[FieldError]:
    """Every rule the draft breaks, as field errors; empty when it may be published."""
    return [
        *_rate_problems("vat_rate", draft.vat_rate),
        *_price_problems(
            ("extra_mailbox_gb_yearly_price", draft.extra_mailbox_gb_yearly_cents),
            ("extra_archive_gb_yearly_price", draft.extra_archive_gb_yearly_cents),
            ("kit_shipping_price", draft.kit_shipping_cents),
        ),
        *_plan_problems(draft.plans),
        *_duplicates("signature_kits", [kit.code for kit in draft.signature_kits]),
        *_price_problems(
            *(
                (f"signature_kits[{i}].price", k.price_cents)
                for i, k in enumerate(draft.signature_kits)
            )
        ),
        *_promotion_problems(draft.promotions, {plan.code for plan in draft.plans}),
        *_convention_problems(draft.conventions),
    ]


def check_publishable(draft: PriceListDraft) -> PriceList:
    """The price list, or InvalidPriceList naming every problem."""
    problems = publishing_problems(draft)
    if problems:
        raise InvalidPriceList(problems)
    return draft.to_price_list()


def _plan_problems(plans: Sequence[Plan]) -> Iterator[FieldError]:
    if not plans:
        yield FieldError("plans", "plans_required")
    yield from _duplicates("plans", [plan.code for plan in plans])
    for i, plan in enumerate(plans):
        if plan.max_mailbox_gb is not None and plan.max_mailbox_gb < plan.mailbox_gb:
            yield FieldError(
                f"plans[{i}].max_mailbox_gb", "max_below_base", (("min", plan.mailbox_gb),)
            )
        yield from _price_problems((f"plans[{i}].yearly_price", plan.yearly_price_cents))


def _promotion_problems(
    promotions: Sequence[Promotion], plan_codes: set[str]
) -> Iterator[FieldError]:
    for i, promotion in enumerate(promotions):
        field = f"promotions[{i}]"
        if promotion.plan_code not in plan_codes:
            yield FieldError(f"{field}.plan", "unknown_plan", known_codes(plan_codes))
        yield from _price_problems((f"{field}.yearly_price", promotion.yearly_price_cents))
        yield from _range_problems(field, promotion.valid_from, promotion.valid_until)
        for j, earlier in enumerate(promotions[:i]):
            if earlier.plan_code == promotion.plan_code and _overlap(earlier, promotion):
                yield FieldError(
                    f"{field}.valid_from", "overlapping_dates", (("other", f"promotions[{j}]"),)
                )


def _convention_problems(conventions: Sequence[ConventionCode]) -> Iterator[FieldError]:
    # One entry per code: a code is looked up by itself, so two entries for it (even on
    # dates that don't overlap) would leave one of them unreachable.
    yield from _duplicates("conventions", [c.code for c in conventions])
    for i, convention in enumerate(conventions):
        field = f"conventions[{i}]"
        yield from _rate_problems(f"{field}.discount_rate", convention.discount_rate)
        yield from _range_problems(field, convention.valid_from, convention.valid_until)


def _rate_problems(field: str, rate: Decimal) -> Iterator[FieldError]:
    if not Decimal(0) <= rate <= Decimal(1):
        yield FieldError(field, "out_of_range", (("min", "0"), ("max", "1")))
    elif rate != rate.quantize(RATE_STEP):
        yield FieldError(field, "too_precise", (("step", str(RATE_STEP)),))


def _price_problems(*prices: tuple[str, int]) -> Iterator[FieldError]:
    for field, cents in prices:
        if cents < 0:
            yield FieldError(field, "out_of_range", (("min", "0.00"),))


def _range_problems(field: str, valid_from: date, valid_until: date) -> Iterator[FieldError]:
    if valid_from > valid_until:
        yield FieldError(f"{field}.valid_until", "invalid_date_range")


def _duplicates(field: str, codes: Sequence[str]) -> Iterator[FieldError]:
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            yield FieldError(f"{field}[{i}].code", "duplicate_code")
        seen.add(code)


def _overlap(a: Promotion, b: Promotion) -> bool:
    # Both ends inclusive; a range that is itself invalid is reported on its own.
    return a.valid_from <= b.valid_until and b.valid_from <= a.valid_until
