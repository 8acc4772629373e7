"""Money: integer cents in one currency, Decimal only where a rate is applied."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def percent_of_cents(cents: int, rate: Decimal) -> int:
    """`rate` × `cents`, rounded half-up to the cent; `rate` is a fraction (0.22)."""
    return int((Decimal(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: integer cents plus an ISO 4217 currency."""

    cents: int
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if type(self.cents) is not int:  # bool and float are not money
            raise TypeError("Money.cents must be an int")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError("cannot add amounts in different currencies")
        return Money(self.cents + other.cents, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.cents, self.currency)

    @property
    def amount(self) -> Decimal:
        """The amount as a two-decimal Decimal (113.46)."""
        return Decimal(self.cents).scaleb(-2)

    @classmethod
    def parse(cls, amount: str | Decimal, currency: str = "EUR") -> Money:
        """Money from a decimal amount ("113.46"); more than two decimals is an error."""
        value = Decimal(amount)
        if value != value.quantize(CENT):
            raise ValueError(f"{amount} has more than two decimals")
        return cls(int(value.scaleb(2)), currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def cents_text(cents: int) -> str:
    """An amount of cents as its two-decimal string (11346 -> "113.46", -5 -> "-0.05"):
    what str(Money(cents).amount) writes, by integer arithmetic (every answer writes
    several, and a Decimal per amount cost an order ~2% of its CPU)."""
    whole, rest = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole}.{rest:02d}"
