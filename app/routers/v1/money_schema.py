"""Money on the wire: a decimal string and a currency, never a float."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.domain.money import Money


class MoneyOut(BaseModel):
    amount: str = Field(pattern=r"^-?\d+\.\d{2}$", examples=["113.46"])
    currency: str = Field(examples=["EUR"])

    @classmethod
    def of(cls, cents: int, currency: str) -> MoneyOut:
        return cls(amount=str(Money(cents, currency).amount), currency=currency)
