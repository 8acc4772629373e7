"""Money (integer cents), half-up rounding and calendar-year expiry arithmetic."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.calendar import add_years
from app.domain.money import Money, cents_text, percent_of_cents

# --- Money -------------------------------------------------------------------------


def test_money_holds_integer_cents_and_defaults_to_eur() -> None:
    money = Money(11346)
    assert money.cents == 11346
    assert money.currency == "EUR"


@pytest.mark.parametrize("not_cents", [12.08, True, Decimal("12.08"), "1208"])
def test_money_refuses_anything_but_int_cents(not_cents: object) -> None:
    with pytest.raises(TypeError):
        Money(not_cents)  # type: ignore[arg-type]  # the wrong type is the point


def test_money_is_immutable() -> None:
    money = Money(100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.cents = 200  # type: ignore[misc]


def test_money_adds_in_the_same_currency() -> None:
    assert Money(990) + Money(300) == Money(1290)


def test_money_refuses_to_add_different_currencies() -> None:
    with pytest.raises(ValueError, match="different currencies"):
        Money(990, "EUR") + Money(990, "USD")


def test_money_negation_flips_the_sign_and_keeps_the_currency() -> None:
    assert -Money(930, "EUR") == Money(-930, "EUR")


def test_money_amount_is_a_two_decimal_decimal() -> None:
    assert Money(11346).amount == Decimal("113.46")
    assert str(Money(11346).amount) == "113.46"
    assert str(Money(1208)) == "12.08 EUR"


@pytest.mark.parametrize(
    ("text", "cents"),
    [("113.46", 11346), ("12.08", 1208), ("9.9", 990), ("0", 0), ("25", 2500)],
)
def test_money_parse_reads_a_decimal_amount(text: str, cents: int) -> None:
    assert Money.parse(text) == Money(cents)


def test_money_parse_accepts_a_decimal_and_a_currency() -> None:
    assert Money.parse(Decimal("93.00"), "USD") == Money(9300, "USD")


def test_money_parse_refuses_more_than_two_decimals() -> None:
    with pytest.raises(ValueError, match="more than two decimals"):
        Money.parse("1.005")


# --- percent_of_cents --------------------------------------------------------------


@pytest.mark.parametrize(
    ("cents", "rate", "expected"),
    [
        (990, "0.22", 218),  # 217.8
        (1290, "0.22", 284),  # 283.8
        (9300, "0.22", 2046),  # exact
        (2970, "0.22", 653),  # 653.4
        (25, "0.10", 3),  # 2.5 → 3
        (45, "0.10", 5),  # 4.5 → 5 (banker's rounding would give 4)
        (990, "0.15", 149),  # 148.5 → 149
        (0, "0.22", 0),
        (9300, "0.10", 930),
    ],
)
def test_percent_of_cents_rounds_half_up_to_the_cent(cents: int, rate: str, expected: int) -> None:
    result = percent_of_cents(cents, Decimal(rate))
    assert result == expected
    assert type(result) is int


# --- add_years ---------------------------------------------------------------------


def test_add_years_moves_to_the_same_day_years_later() -> None:
    assert add_years(date(2026, 7, 31), 1) == date(2027, 7, 31)
    assert add_years(date(2026, 7, 31), 3) == date(2029, 7, 31)


def test_add_years_29_february_plus_one_year_is_28_february() -> None:
    assert add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)


def test_add_years_29_february_plus_four_years_is_29_february() -> None:
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


def test_add_years_29_february_plus_five_years_is_28_february() -> None:
    assert add_years(date(2028, 2, 29), 5) == date(2033, 2, 28)


def test_add_years_28_february_stays_28_february_in_a_leap_year() -> None:
    assert add_years(date(2027, 2, 28), 1) == date(2028, 2, 28)


def test_add_years_zero_is_the_same_day() -> None:
    assert add_years(date(2026, 5, 31), 0) == date(2026, 5, 31)


def test_the_day_is_the_italian_day_not_the_utc_day() -> None:
    from datetime import UTC, datetime

    from app.domain.calendar import italian_date

    # 23:30 UTC on 31 Dec is already New Year's Day in Rome (UTC+1 in winter).
    assert italian_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2027, 1, 1)
    # 22:30 UTC on 30 Jun is already 1 Jul in Rome (UTC+2 in summer).
    assert italian_date(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)


# Up to Decimal's default 28 digits: beyond them the Decimal rounds, the text doesn't.
@given(st.integers(min_value=-(10**28) + 1, max_value=10**28 - 1))
def test_an_amounts_text_is_its_decimal_written_out(cents: int) -> None:
    assert cents_text(cents) == str(Money(cents, "EUR").amount)
