"""The lifecycle sweep as a use case on the fake database: the same rules the PostgreSQL
tests check, run where they are cheap — a pending order holds back the reminders before
expiry, and a cancelled one lets the reminder still due go out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from app.domain.calendar import italian_date
from app.domain.mailbox import MailboxStatus
from app.domain.renewal_mode import RenewalMode, RenewalModeKind
from app.services.mailbox_lifecycle import sweep_mailbox_lifecycle
from tests.usecases.shop import EXPIRES_ON, Shop, mailbox

NOON = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)


def _day(offset: int) -> datetime:
    """10:00 UTC on the day `offset` days from the expiry."""
    return NOON + (EXPIRES_ON + timedelta(days=offset) - italian_date(NOON))


async def test_sweeping_a_year_daily_takes_each_milestone_once_then_deletes() -> None:
    shop = Shop.open(mailbox())
    taken = []
    for offset in range(-120, 200):
        if await sweep_mailbox_lifecycle(shop.db.uow_factory, _day(offset), batch=2):
            taken.append(offset)

    assert taken == [-90, -30, -15, -7, 0, 30, 60, 91]
    assert shop.mailbox().status is MailboxStatus.DELETED
    assert [k for k in shop.outbox_keys() if k.startswith("deletion:")] == [
        "deletion:mbx-1:2026-07-31"
    ]


async def test_a_pending_order_holds_back_the_reminder_until_it_is_cancelled() -> None:
    shop = Shop.open(mailbox())
    await shop.place(now=_day(-31))

    assert await sweep_mailbox_lifecycle(shop.db.uow_factory, _day(-30)) == 0

    shop.db.tables.pending_renewals.clear()  # the order was cancelled
    assert await sweep_mailbox_lifecycle(shop.db.uow_factory, _day(-29)) == 1
    assert "lifecycle:mbx-1:2026-07-31:lifecycle_reminder_-30" in shop.outbox_keys()
    assert await sweep_mailbox_lifecycle(shop.db.uow_factory, _day(-29)) == 0


async def test_a_partners_tacit_renewal_holds_back_the_reminders_but_not_the_expiry() -> None:
    managed = replace(mailbox(), partner_id="partner-1")
    shop = Shop.open(managed)
    shop.db.tables.renewal_modes["mbx-1"] = ("partner-1", RenewalMode(RenewalModeKind.TACIT, 1))
    taken = []
    for offset in range(-120, 100):
        if await sweep_mailbox_lifecycle(shop.db.uow_factory, _day(offset)):
            taken.append(offset)

    # the partner renews it 7 days before; if that never happened, it did expire
    assert taken == [0, 30, 60, 91]


async def test_a_tacit_mode_set_by_a_former_partner_does_not_hold_back_reminders() -> None:
    shop = Shop.open(replace(mailbox(), partner_id="partner-2"))
    shop.db.tables.renewal_modes["mbx-1"] = ("partner-1", RenewalMode(RenewalModeKind.TACIT, 1))

    assert await sweep_mailbox_lifecycle(shop.db.uow_factory, _day(-30)) == 1
