"""Publishing rules of a price list (domain.md, "Price lists"), on the pure draft."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.catalog import ConventionCode, Promotion
from app.domain.errors import FieldError
from app.domain.price_list_rules import (
    InvalidPriceList,
    PriceListDraft,
    check_publishable,
    publishing_problems,
)
from app.sandbox.demo_catalog import demo_price_list

DEMO = demo_price_list()
DRAFT = PriceListDraft(
    id="2027-01",
    valid_from=datetime(2027, 1, 1, tzinfo=UTC),
    currency="EUR",
    vat_rate=Decimal("0.22"),
    plans=tuple(DEMO.plans.values()),
    extra_mailbox_gb_yearly_cents=300,
    extra_archive_gb_yearly_cents=300,
    signature_kits=tuple(DEMO.signature_kits.values()),
    kit_shipping_cents=990,
    conventions=tuple(DEMO.conventions.values()),
)
JAN_1 = date(2027, 1, 1)


def promotion(plan: str, start: date, days: int) -> Promotion:
    return Promotion(plan, 790, start, start + timedelta(days=days))


def fields(draft: PriceListDraft) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in publishing_problems(draft)]


def test_the_demo_price_list_may_be_published() -> None:
    assert publishing_problems(DRAFT) == []
    assert check_publishable(DRAFT) == replace(DEMO, id="2027-01", valid_from=DRAFT.valid_from)


def test_a_plan_whose_maximum_is_below_its_base_space_is_refused() -> None:
    plans = list(DRAFT.plans)
    plans[1] = replace(plans[1], max_mailbox_gb=1)  # PRO has 2 GB

    assert publishing_problems(replace(DRAFT, plans=tuple(plans))) == [
        FieldError("plans[1].max_mailbox_gb", "max_below_base", (("min", 2),))
    ]


def test_a_price_list_needs_a_plan() -> None:
    assert fields(replace(DRAFT, plans=())) == [("plans", "plans_required")]


def test_codes_are_unique() -> None:
    draft = replace(
        DRAFT,
        plans=(*DRAFT.plans, DRAFT.plans[0]),
        signature_kits=(*DRAFT.signature_kits, DRAFT.signature_kits[1]),
        conventions=(*DRAFT.conventions, DRAFT.conventions[0]),
    )

    assert fields(draft) == [
        ("plans[4].code", "duplicate_code"),
        ("signature_kits[2].code", "duplicate_code"),
        ("conventions[1].code", "duplicate_code"),
    ]


@pytest.mark.parametrize("rate", ["-0.01", "1.01", "22"])
def test_the_vat_rate_is_a_fraction_between_0_and_1(rate: str) -> None:
    assert fields(replace(DRAFT, vat_rate=Decimal(rate))) == [("vat_rate", "out_of_range")]


def test_a_rate_finer_than_a_basis_point_is_refused() -> None:
    assert fields(replace(DRAFT, vat_rate=Decimal("0.22001"))) == [("vat_rate", "too_precise")]


def test_prices_are_not_negative() -> None:
    draft = replace(DRAFT, kit_shipping_cents=-1, extra_archive_gb_yearly_cents=-300)

    assert fields(draft) == [
        ("extra_archive_gb_yearly_price", "out_of_range"),
        ("kit_shipping_price", "out_of_range"),
    ]


def test_a_promotion_names_a_plan_of_the_list_and_ends_after_it_starts() -> None:
    backwards = Promotion("PRO", 2000, JAN_1, JAN_1 - timedelta(days=1))
    draft = replace(DRAFT, promotions=(promotion("GOLD", JAN_1, 30), backwards))

    assert fields(draft) == [
        ("promotions[0].plan", "unknown_plan"),
        ("promotions[1].valid_until", "invalid_date_range"),
    ]


def test_a_convention_ends_after_it_starts() -> None:
    backwards = ConventionCode("ORDINE", "x", Decimal("0.1"), JAN_1, JAN_1 - timedelta(days=1))

    assert fields(replace(DRAFT, conventions=(backwards,))) == [
        ("conventions[0].valid_until", "invalid_date_range")
    ]


def test_two_promotions_of_one_plan_may_follow_each_other_but_not_overlap() -> None:
    first = promotion("DOMAIN", JAN_1, 30)
    following = promotion("DOMAIN", first.valid_until + timedelta(days=1), 30)
    overlapping = promotion("DOMAIN", first.valid_until, 30)  # shares its last day
    other_plan = promotion("PRO", JAN_1, 30)

    assert fields(replace(DRAFT, promotions=(first, following, other_plan))) == []
    assert publishing_problems(replace(DRAFT, promotions=(first, overlapping))) == [
        FieldError("promotions[1].valid_from", "overlapping_dates", (("other", "promotions[0]"),))
    ]


def test_check_publishable_names_every_problem() -> None:
    with pytest.raises(InvalidPriceList) as raised:
        check_publishable(replace(DRAFT, plans=(), vat_rate=Decimal(2)))

    assert [(e.field, e.code) for e in raised.value.errors] == [
        ("vat_rate", "out_of_range"),
        ("plans", "plans_required"),
    ]


days = st.integers(min_value=0, max_value=400)


@given(start_a=days, length_a=days, start_b=days, length_b=days)
def test_promotions_of_one_plan_are_refused_exactly_when_their_days_intersect(
    start_a: int, length_a: int, start_b: int, length_b: int
) -> None:
    a = promotion("DOMAIN", JAN_1 + timedelta(days=start_a), length_a)
    b = promotion("DOMAIN", JAN_1 + timedelta(days=start_b), length_b)
    days_a = {a.valid_from + timedelta(days=n) for n in range(length_a + 1)}
    days_b = {b.valid_from + timedelta(days=n) for n in range(length_b + 1)}

    refused = fields(replace(DRAFT, promotions=(a, b))) == [
        ("promotions[1].valid_from", "overlapping_dates")
    ]

    assert refused == bool(days_a & days_b)


@given(
    base=st.integers(min_value=1, max_value=100),
    maximum=st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
    position=st.integers(min_value=0, max_value=3),
)
def test_a_plans_maximum_is_refused_exactly_when_it_is_below_its_base(
    base: int, maximum: int | None, position: int
) -> None:
    plans = list(DRAFT.plans)
    plans[position] = replace(plans[position], mailbox_gb=base, max_mailbox_gb=maximum)

    problems = fields(replace(DRAFT, plans=tuple(plans)))

    below = maximum is not None and maximum < base
    assert problems == ([(f"plans[{position}].max_mailbox_gb", "max_below_base")] if below else [])
