"""The lifecycle of a mailbox without automatic renewal, as milestones of one expiry date.

domain.md, "Reminders and the lifecycle": reminder emails 90, 30, 15 and 7 days before
expiry, on the expiry day, 30 and 60 days into the grace; on day 91 the mailbox is
deleted (the mail platform is told, the holder emailed, the mirror marked DELETED).

Each milestone is *due* from its day until the next milestone's day. A sweep that runs
late (a stopped worker, a clock moved forward) therefore finds at most one milestone due
per mailbox, the latest: the holder never gets a stack of stale reminders at once, and
each one that is sent is still true. Deletion has no next milestone: once due it stays
due until it is done. Each milestone is taken at most once per mailbox and expiry date
(the sweep claims it, see app/db/milestone_repository.py); a renewal moves the expiry
date, and the new date starts over.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from app.domain.mailbox import GRACE_DAYS, Mailbox, MailboxStatus


@dataclass(frozen=True, slots=True)
class LifecycleMilestone:
    name: str  # the milestone's key in mailbox_milestones (prefixed, < 48 characters)
    day: int  # days from the expiry date: negative before it, 0 on it
    # Whether it is taken while a renewal is in hand: an order awaiting payment, or the
    # managing partner's tacit renewal (from its credit, 7 days before the expiry).
    # Before the expiry it is held back: the customer has acted (the order's confirmation
    # said what to pay), or the partner renews it. From the expiry day on the mailbox is
    # at risk, so the holder is told all the same.
    sent_while_order_pending: bool = True

    @property
    def is_deletion(self) -> bool:
        return self.name == DELETION.name


REMINDER_90 = LifecycleMilestone("lifecycle_reminder_-90", -90, sent_while_order_pending=False)
REMINDER_30 = LifecycleMilestone("lifecycle_reminder_-30", -30, sent_while_order_pending=False)
REMINDER_15 = LifecycleMilestone("lifecycle_reminder_-15", -15, sent_while_order_pending=False)
REMINDER_7 = LifecycleMilestone("lifecycle_reminder_-7", -7, sent_while_order_pending=False)
EXPIRY_DAY = LifecycleMilestone("lifecycle_expiry_day", 0)
GRACE_30 = LifecycleMilestone("lifecycle_grace_30", 30)
GRACE_60 = LifecycleMilestone("lifecycle_grace_60", 60)
DELETION = LifecycleMilestone("lifecycle_deletion", GRACE_DAYS + 1)

# In the order they come.
MILESTONES: tuple[LifecycleMilestone, ...] = (
    REMINDER_90,
    REMINDER_30,
    REMINDER_15,
    REMINDER_7,
    EXPIRY_DAY,
    GRACE_30,
    GRACE_60,
    DELETION,
)
BY_NAME = {milestone.name: milestone for milestone in MILESTONES}


@dataclass(frozen=True, slots=True)
class MilestoneWindow:
    """The expiry dates for which `milestone` is due today: the query a sweep runs."""

    milestone: LifecycleMilestone
    earliest_expiry: date | None  # None: no lower bound (deletion stays due)
    latest_expiry: date


def takes_part(mailbox: Mailbox) -> bool:
    """Whether the lifecycle sweep looks after this mailbox at all.

    One with automatic renewal gets its notice from the automatic renewal instead; a
    DELETED one is done, a SUSPENDED one (a partner's lapsed domain) is the partner's.
    """
    return not mailbox.auto_renewal and mailbox.status in (
        MailboxStatus.ACTIVE,
        MailboxStatus.EXPIRED,
    )


def days_from_expiry(expires_on: date, today: date) -> int:
    return (today - expires_on).days


def due_milestone(
    expires_on: date, today: date, reached: Collection[str] = (), *, order_pending: bool = False
) -> LifecycleMilestone | None:
    """The milestone to take `today` for that expiry date, None when there is none.

    Only the latest milestone whose day has come is due; it is not taken when it, or any
    later one, was already reached for that expiry, nor while a renewal order awaits
    payment if it is one held back then (it is taken if the order goes, while still due).
    """
    day = days_from_expiry(expires_on, today)
    latest = None
    for position, milestone in enumerate(MILESTONES):
        if milestone.day <= day:
            latest = position
    if latest is None:
        return None
    if any(later.name in reached for later in MILESTONES[latest:]):
        return None
    milestone = MILESTONES[latest]
    if order_pending and not milestone.sent_while_order_pending:
        return None
    return milestone


def windows(today: date) -> list[MilestoneWindow]:
    """For each milestone, the expiry dates that have it due today (disjoint ranges)."""
    found = []
    for position, milestone in enumerate(MILESTONES):
        latest = today - timedelta(days=milestone.day)
        earliest = None
        if position + 1 < len(MILESTONES):
            following = MILESTONES[position + 1]
            earliest = today - timedelta(days=following.day - 1)
        found.append(MilestoneWindow(milestone, earliest, latest))
    return found


def deletion_day(expires_on: date) -> date:
    """The day the mailbox is deleted: the first day after the grace."""
    return expires_on + timedelta(days=DELETION.day)


def last_renewable_day(expires_on: date) -> date:
    return expires_on + timedelta(days=GRACE_DAYS)


def italian_format(day: date) -> str:
    """25/12/2026: how a date is written to an Italian holder (in either language)."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"
