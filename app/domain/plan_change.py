"""When a renewal's plan change takes effect (domain.md "When a plan change takes effect").

An upgrade takes effect at payment; a downgrade waits for the current expiry, so the
customer keeps what was paid for until then (and the archive is deleted then, not at
payment). One change, one date: a change is a downgrade when it takes ANYTHING away
from what the mailbox has — less mailbox or archive space in all (plan GB + extra GB),
a lower ceiling for the mailbox, the archive, SMS reports, extra users — and then the
whole change waits, even the parts that add something. A change that only adds (or
changes nothing) is applied at payment. So "plan up but extra space down" is an
upgrade when the totals don't shrink (STANDARD + 1 GB → PRO: 2 GB either way, an
archive gained) and a downgrade when they do (PRO + 5 GB → PREMIUM: 7 GB → 2 GB).

A mailbox already expired (in its grace) has nothing left to keep: any change applies
at payment. The expiry is always extended at payment, whatever the change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import NamedTuple

from app.domain.catalog import MB_PER_GB, Plan
from app.domain.mailbox import Mailbox


class TakesEffect(StrEnum):
    AT_PAYMENT = "at_payment"
    AT_EXPIRY = "at_expiry"


class Allowance(NamedTuple):
    """What a mailbox on a plan with some extra space has: the things a change can take.

    A NamedTuple, immutable like the frozen dataclasses around it but built in C: two are
    built for every mailbox of every quote, and a frozen dataclass's __init__ cost more
    than the comparison they are built for (issue 10: domain quotes/s).
    """

    mailbox_mb: int
    max_mailbox_gb: int | None  # None: no ceiling
    archive_mb: int
    sms_reports: bool
    extra_users: int

    @classmethod
    def of(cls, plan: Plan, extra_mailbox_gb: int, extra_archive_gb: int) -> Allowance:
        archive_gb = plan.archive_gb + extra_archive_gb if plan.has_archive else 0
        return cls(
            (plan.mailbox_gb + extra_mailbox_gb) * MB_PER_GB,
            plan.max_mailbox_gb,
            archive_gb * MB_PER_GB,
            plan.sms_reports,
            plan.extra_users,
        )

    def lacks_something_of(self, other: Allowance) -> bool:
        """True when `other` has something this doesn't: moving to this takes it away."""
        return (
            self.mailbox_mb < other.mailbox_mb
            or _lower_ceiling(self.max_mailbox_gb, other.max_mailbox_gb)
            or self.archive_mb < other.archive_mb
            or (other.sms_reports and not self.sms_reports)
            or self.extra_users < other.extra_users
        )


def _lower_ceiling(new: int | None, old: int | None) -> bool:
    if new is None:
        return False
    return old is None or new < old


def is_downgrade(
    mailbox: Mailbox, current: Plan, target: Plan, extra_mailbox_gb: int, extra_archive_gb: int
) -> bool:
    """Does renewing `mailbox` (on `current`) to `target` with this extra space take
    anything away from what it has now?"""
    if (
        target is current
        and extra_mailbox_gb == mailbox.extra_mailbox_gb
        and extra_archive_gb == mailbox.extra_archive_gb
    ):
        return False  # renewed as it is: the same allowance, nothing to compare
    now = Allowance.of(current, mailbox.extra_mailbox_gb, mailbox.extra_archive_gb)
    then = Allowance.of(target, extra_mailbox_gb, extra_archive_gb)
    return then.lacks_something_of(now)


def takes_effect(downgrade: bool, expires_on: date, today: date) -> TakesEffect:
    """A downgrade of a mailbox not yet expired waits for its expiry; the rest is now."""
    return TakesEffect.AT_EXPIRY if downgrade and today <= expires_on else TakesEffect.AT_PAYMENT


def effective_on(downgrade: bool, expires_on: date, today: date) -> date:
    """The day the change takes effect, if paid `today`: the first day after the current
    expiry for a waiting downgrade (the expiry day itself is still paid for), else today."""
    return schedule(downgrade, expires_on, today)[1]


def schedule(downgrade: bool, expires_on: date, today: date) -> tuple[TakesEffect, date]:
    """`takes_effect` and `effective_on` at once (a quote needs both for every mailbox)."""
    if downgrade and today <= expires_on:
        return TakesEffect.AT_EXPIRY, expires_on + _ONE_DAY
    return TakesEffect.AT_PAYMENT, today


_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ScheduledChange:
    """A paid downgrade waiting for its day: what the mailbox becomes then."""

    mailbox_id: str
    order_id: str
    effective_on: date
    plan_code: str
    extra_mailbox_gb: int
    extra_archive_gb: int
    deletes_archive: bool

    def due(self, today: date) -> bool:
        return self.effective_on <= today

    def applied_to(self, mailbox: Mailbox) -> Mailbox:
        """The mailbox once the change has taken effect (its archive emptied if deleted)."""
        return replace(
            mailbox,
            plan_code=self.plan_code,
            extra_mailbox_gb=self.extra_mailbox_gb,
            extra_archive_gb=self.extra_archive_gb,
            used_archive_mb=0 if self.deletes_archive else mailbox.used_archive_mb,
        )
