"""A partner (reseller) as staff set it up, and the lines of its credit ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class PartnerProfile:
    """What staff set for a partner. The credit is not here: only top-ups and orders
    move it, each with its line in the ledger."""

    id: str
    name: str
    email: str
    language: str  # "it" or "en": the language of what we send it
    low_credit_threshold_cents: int  # told when the credit falls below it


@dataclass(frozen=True, slots=True)
class Partner:
    profile: PartnerProfile
    credit_cents: int
    updated_by: str | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class CreditMovement:
    """One ledger line: + a top-up, − an order paid from the credit."""

    id: int
    kind: str  # top_up | order
    amount_cents: int
    balance_after_cents: int
    order_id: str | None
    created_at: datetime
