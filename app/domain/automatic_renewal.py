"""Automatic renewal: its frequency, and which step of it a day before expiry calls for.

domain.md "Automatic renewal": a notice some days before the charge; on the lead day
(7 by default) the service orders the renewal itself and charges the saved method;
a declined charge is retried 5, 3 and 1 days before expiry. Pure: the sweep
(app/services/automatic_renewals.py) asks `step_due` what to do and claims it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from app.domain.catalog import Promotion
from app.domain.errors import FieldError, InvalidRequest

RETRY_DAYS = (5, 3, 1)  # days before expiry a declined charge is tried again
MIN_YEARS = 1
# Milestone names (mailbox_milestones.milestone), one set per mailbox and expiry date.
NOTICE = "auto_renewal_notice"
ORDERED = "auto_renewal_order"
BLOCKED = "auto_renewal_blocked"
CHARGE_PREFIX = "auto_renewal_charge_-"


def check_frequency(years: int, promotion: Promotion | None) -> None:
    """Rule 1 for the recorded frequency: 1–2 years on a plan on promotion, as a quote
    for more would be blocked (`frequency_not_allowed`)."""
    if promotion is not None and years > promotion.max_years:
        raise InvalidRequest(
            [
                FieldError(
                    "years",
                    "frequency_not_allowed",
                    (("min", MIN_YEARS), ("max", promotion.max_years)),
                )
            ]
        )


def renewal_years(recorded: int, promotion: Promotion | None) -> int:
    """The years an automatic renewal buys: the recorded ones, capped by a promotion
    that started since they were recorded (the renewal still happens, for less)."""
    if promotion is not None:
        return min(recorded, promotion.max_years)
    return recorded


class StepKind(StrEnum):
    NOTICE = "notice"  # tell the holder a charge is coming
    CHARGE = "charge"  # order (first time) and charge the saved method


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    milestone: str


@dataclass(frozen=True, slots=True)
class Schedule:
    """When the steps happen, in days before expiry."""

    lead_days: int = 7  # the renewal order and the first charge
    notice_days: int = 10  # the notice, this many days before the first charge

    @property
    def charge_days(self) -> tuple[int, ...]:
        """The first charge and its retries, latest first (7, 5, 3, 1)."""
        return (self.lead_days, *(d for d in RETRY_DAYS if d < self.lead_days))

    @property
    def horizon(self) -> int:
        """How far ahead of expiry the sweep looks."""
        return self.lead_days + self.notice_days

    def windows(self, today: date) -> list[tuple[Step, date, date]]:
        """Each step with the expiry dates (first, last) it is due for today: the sweep
        asks storage for the mailboxes in each window that haven't taken that step."""
        found = [
            (
                Step(StepKind.NOTICE, NOTICE),
                today + timedelta(days=self.lead_days + 1),
                today + timedelta(days=self.horizon),
            )
        ]
        days = self.charge_days
        for index, day in enumerate(days):
            after = days[index + 1] if index + 1 < len(days) else 0
            step = Step(StepKind.CHARGE, f"{CHARGE_PREFIX}{day}")
            found.append((step, today + timedelta(days=after + 1), today + timedelta(days=day)))
        return found

    def step_due(self, expires_on: date, today: date) -> Step | None:
        """The step of today, or None. A worker that was down catches up with the
        latest step due only: one charge attempt per milestone, never a burst."""
        days_left = (expires_on - today).days
        if days_left < 1 or days_left > self.horizon:
            return None
        if days_left > self.lead_days:
            return Step(StepKind.NOTICE, NOTICE)
        attempt = min(d for d in self.charge_days if d >= days_left)
        return Step(StepKind.CHARGE, f"{CHARGE_PREFIX}{attempt}")
