"""A downgrade at the current expiry, as use cases on the fake unit of work: fulfilment
schedules it, the sweep applies it on its day (the API tests prove the same over HTTP,
tests/api/test_plan_change_at_expiry_api.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from app.domain.order import OrderStatus
from app.services.payments import receive_event
from app.services.plan_changes import apply_due_plan_changes
from app.services.sweeps import SweepContext, run_sweeps
from tests.usecases.shop import LATER, Shop, event, mailbox

PRO = replace(mailbox(), plan_code="PRO", used_archive_mb=2500)
DAY_AFTER = datetime(2026, 8, 1, 8, 0, tzinfo=UTC)  # 10:00 in Italy, the day after expiry


async def test_a_downgrade_paid_early_keeps_the_plan_and_archive_until_the_expiry() -> None:
    shop = Shop.open(PRO)
    order = await shop.place(plan="STANDARD")
    await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    assert shop.order(order.id).status is OrderStatus.FULFILLED
    box = shop.mailbox()
    assert (box.plan_code, box.used_archive_mb, box.expires_on) == ("PRO", 2500, date(2027, 7, 31))
    scheduled = shop.db.tables.scheduled_changes["mbx-1"]
    assert (scheduled.plan_code, scheduled.deletes_archive) == ("STANDARD", True)
    assert scheduled.effective_on == date(2026, 8, 1)
    assert not [key for key in shop.outbox_keys() if key.startswith("plan_change:")]
    renewal = shop.db.tables.outbox[f"renewal:{order.id}:mbx-1"].payload
    assert (renewal["plan"], renewal["delete_archive"]) == ("PRO", False)

    # The expiry day is still paid for: nothing happens.
    on_expiry = datetime(2026, 7, 31, 20, 0, tzinfo=UTC)  # 22:00 in Italy
    assert await apply_due_plan_changes(shop.db.uow_factory, on_expiry) == 0
    assert shop.mailbox().plan_code == "PRO"

    # The day after, the worker's sweeps apply it, once.
    done = await run_sweeps(SweepContext(shop.db.uow_factory, DAY_AFTER))
    assert done["apply_due_plan_changes"] == 1
    box = shop.mailbox()
    assert (box.plan_code, box.used_archive_mb, box.extra_archive_gb) == ("STANDARD", 0, 0)
    assert shop.db.tables.scheduled_changes == {}
    message = shop.db.tables.outbox[f"plan_change:{order.id}:mbx-1"].payload
    assert (message["action"], message["plan"], message["delete_archive"]) == (
        "plan_change",
        "STANDARD",
        True,
    )
    assert await apply_due_plan_changes(shop.db.uow_factory, DAY_AFTER) == 0


async def test_a_downgrade_paid_in_the_grace_deletes_the_archive_at_payment() -> None:
    late = replace(PRO, expires_on=date(2026, 6, 1))
    shop = Shop.open(late)
    order = await shop.place(plan="STANDARD")
    await receive_event(shop.db.uow_factory, "generic", event(order.number), LATER)

    box = shop.mailbox()
    assert (box.plan_code, box.used_archive_mb, box.expires_on) == ("STANDARD", 0, date(2027, 6, 1))
    assert shop.db.tables.scheduled_changes == {}
    renewal = shop.db.tables.outbox[f"renewal:{order.id}:mbx-1"].payload
    assert (renewal["plan"], renewal["delete_archive"]) == ("STANDARD", True)
