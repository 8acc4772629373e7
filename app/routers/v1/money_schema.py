"""Money on the wire: a decimal string and a currency, never a float."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

from app.domain.money import Money, cents_text


class MoneyOut(BaseModel):
    """An amount of money: a decimal string, never a float."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"amount": "113.46", "currency": "EUR"}]}
    )

    amount: str = Field(
        pattern=r"^-?\d+\.\d{2}$",
        examples=["113.46"],
        description="Decimal string with two decimals, in `currency` (EUR: euros, not "
        "cents); negative only for a discount line.",
    )
    currency: str = Field(examples=["EUR"], description="ISO 4217 code; always `EUR` today.")

    @classmethod
    def of(cls, cents: int, currency: str) -> MoneyOut:
        return cls(**money_values(cents, currency))


def money_values(cents: int, currency: str) -> dict[str, str]:
    """MoneyOut's fields as plain values (the hot paths encode them without the model)."""
    return {"amount": cents_text(cents), "currency": currency}


# An amount in a request: the same decimal string, two decimals, at most 9,999,999.99
# (what a price or a top-up can sensibly be; beyond it is a 422, never an overflow).
MoneyAmountIn = Annotated[
    str,
    StringConstraints(pattern=r"^\d{1,7}\.\d{2}$"),
    Field(examples=["25.00"], description="EUR, two decimals, 0.00 to 9999999.99"),
]


def eur_example(amount: str) -> JsonDict:
    """A `MoneyOut` in euros, as the schemas' examples write one."""
    return {"amount": amount, "currency": "EUR"}


def cents_of(amount: str) -> int:
    """The cents of an amount that passed `MoneyAmountIn`."""
    return Money.parse(amount).cents
