"""What an order renews: each mailbox as quoted, and what it becomes when fulfilled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain import plan_change
from app.domain.calendar import add_years
from app.domain.mailbox import Mailbox
from app.domain.plan_change import ScheduledChange
from app.domain.quote import QuotedItem


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One mailbox of the order, frozen when the order is placed."""

    mailbox_id: str
    address: str
    current_plan: str
    target_plan: str
    extra_mailbox_gb: int
    extra_archive_gb: int
    deletes_archive: bool  # acknowledged by the customer when the order was placed
    quoted_new_expiry: date  # shown only: the renewal counts from the expiry at fulfilment
    downgrade: bool = False  # takes something away: waits for the expiry (plan_change)
    quoted_effective_on: date | None = None  # shown only, as quoted; None: placed before

    def waits_for_expiry(self, placed_on: date) -> bool:
        """As quoted: a downgrade of a mailbox not yet expired when the order was placed
        (its effective day, the day after the expiry, is still to come)."""
        day = self.quoted_effective_on
        return self.downgrade and day is not None and day > placed_on

    @classmethod
    def of(cls, item: QuotedItem) -> OrderItem:
        return cls(
            item.mailbox_id, item.address, item.current_plan, item.target_plan,
            item.extra_mailbox_gb, item.extra_archive_gb, item.deletes_archive,
            item.new_expiry, item.downgrade, item.effective_on,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class MailboxChange:
    """What a mailbox becomes when its order is fulfilled (the mail platform is told).

    A downgrade of a mailbox not yet expired changes only its expiry (and automatic
    renewal) now: its plan and space stay as they are, and `scheduled` says what it
    becomes on its day (the sweep in app/services/plan_changes.py applies it then).
    """

    mailbox_id: str
    address: str
    previous_expiry: date
    expires_on: date
    plan_code: str
    extra_mailbox_gb: int
    extra_archive_gb: int
    deletes_archive: bool
    auto_renewal: bool
    auto_renewal_years: int
    partner_id: str | None = None  # the partner that manages it: told of the renewal
    scheduled: ScheduledChange | None = None

    @classmethod
    def renewal(
        cls,
        item: OrderItem,
        mailbox: Mailbox,
        years: int,
        *,
        turns_auto_renewal_on: bool,
        order_id: str,
        today: date,
    ) -> MailboxChange:
        """From the expiry as it is now, not as quoted: a mailbox moves exactly once.
        A downgrade of a mailbox not yet expired is scheduled for the day after it."""
        target = ScheduledChange(
            mailbox_id=mailbox.id,
            order_id=order_id,
            effective_on=plan_change.effective_on(item.downgrade, mailbox.expires_on, today),
            plan_code=item.target_plan,
            extra_mailbox_gb=item.extra_mailbox_gb,
            extra_archive_gb=0 if item.deletes_archive else item.extra_archive_gb,
            deletes_archive=item.deletes_archive,
        )
        waits = target.effective_on > today
        now_as = mailbox if waits else target.applied_to(mailbox)
        return cls(
            mailbox_id=mailbox.id,
            address=mailbox.address,
            previous_expiry=mailbox.expires_on,
            expires_on=add_years(mailbox.expires_on, years),
            plan_code=now_as.plan_code,
            extra_mailbox_gb=now_as.extra_mailbox_gb,
            extra_archive_gb=now_as.extra_archive_gb,
            deletes_archive=target.deletes_archive and not waits,
            auto_renewal=True if turns_auto_renewal_on else mailbox.auto_renewal,
            auto_renewal_years=years if turns_auto_renewal_on else mailbox.auto_renewal_years,
            partner_id=mailbox.partner_id,
            scheduled=target if waits else None,
        )
