"""A partner's renewal mode for a mailbox it manages, and when a tacit renewal is due.

`tacit`: the service renews the mailbox from the partner's credit 7 days before expiry
(same plan and extra space, the recorded years); a renewal the credit doesn't cover
waits and is tried again each day until the expiry day. `at_expiry` (the default): the
partner renews by hand. Pure: the dates and the decisions, not the storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from app.domain.catalog import Promotion
from app.domain.errors import FieldError

TACIT_LEAD_DAYS = 7  # domain.md, Partners: "7 days before expiry"
MIN_YEARS, MAX_YEARS = 1, 5
TACIT_RENEWED = "tacit_renewed"  # milestone: this expiry was renewed tacitly
TACIT_CONSENTS_VERSION = "partner-tacit-renewal"  # the partner's contract, not a form


class RenewalModeKind(StrEnum):
    TACIT = "tacit"
    AT_EXPIRY = "at_expiry"


@dataclass(frozen=True, slots=True)
class RenewalMode:
    mode: RenewalModeKind
    years: int
    updated_at: datetime | None = None  # None: never set, the default applies

    @property
    def tacit(self) -> bool:
        return self.mode is RenewalModeKind.TACIT


DEFAULT_RENEWAL_MODE = RenewalMode(RenewalModeKind.AT_EXPIRY, 1)


def years_errors(years: int, promotion: Promotion | None) -> list[FieldError]:
    """Why `years` can't be the recorded years: 1–5, and at most the promotion's
    maximum (1–2) while the mailbox's plan is on promotion."""
    top = MAX_YEARS if promotion is None else min(MAX_YEARS, promotion.max_years)
    if MIN_YEARS <= years <= top:
        return []
    return [FieldError("years", "frequency_not_allowed", (("min", MIN_YEARS), ("max", top)))]


def tacit_window(expires_on: date) -> tuple[date, date]:
    """The days a tacit renewal of this expiry is tried: from 7 days before, through the
    expiry day itself (then the mailbox is in its grace and the partner renews by hand)."""
    return expires_on - timedelta(days=TACIT_LEAD_DAYS), expires_on


def tacit_due(expires_on: date, today: date) -> bool:
    first, last = tacit_window(expires_on)
    return first <= today <= last


def attempt_milestone(today: date) -> str:
    """One attempt per mailbox, expiry and day: what makes the retry daily."""
    return f"tacit_attempt:{today.isoformat()}"


def next_attempt_on(expires_on: date, today: date) -> date | None:
    """When a renewal that waits is tried again; None: today was the last day."""
    tomorrow = today + timedelta(days=1)
    return tomorrow if tomorrow <= expires_on else None


def crossed_below(before_cents: int, after_cents: int, threshold_cents: int) -> bool:
    """A debit took the balance from at or above the threshold to below it."""
    return before_cents >= threshold_cents > after_cents
