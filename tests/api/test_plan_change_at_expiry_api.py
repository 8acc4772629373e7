"""When a plan change takes effect (domain.md): an upgrade at payment, a downgrade at the
current expiry — archive deleted then, and the mail platform told then — and any change
to a mailbox already in its grace at payment.

Real PostgreSQL, the real worker (its sweeps and its outbox delivery) against a loopback
mail platform, and the tests' movable clock standing in for the days passing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.container import Container
from app.db.models import OutboxRow
from app.services.plan_changes import apply_due_plan_changes
from tests.api.helpers import TODAY, put_mailbox
from tests.api.loopback_servers import MailPlatform, RunOnce
from tests.api.order_helpers import new_key, order_body, send_generic
from tests.conftest import CUSTOMER, MovableClock

pytestmark = pytest.mark.both_quote_stores  # the quote's effective_on on both stores

EXPIRY = TODAY + timedelta(days=120)  # 2027-03-25: bought months early
DAY_AFTER = EXPIRY + timedelta(days=1)


async def _quote(client: httpx.AsyncClient, item: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/quotes", json={"years": 1, "items": [item]}, headers=CUSTOMER)
    assert response.status_code == 201, response.text
    quote: dict[str, Any] = response.json()
    assert quote["status"] == "ok", quote
    return quote


async def _order_and_pay(client: httpx.AsyncClient, quote: dict[str, Any]) -> dict[str, Any]:
    body = order_body(quote["id"], acknowledge_archive_deletion=True)
    placed = await client.post("/v1/orders", json=body, headers=new_key(CUSTOMER))
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    paid = await send_generic(
        client, "payment.succeeded", order["number"], order["payable"]["amount"], datetime.now(UTC)
    )
    assert paid.json()["outcome"] == "fulfil", paid.text
    return order


async def _mailbox(client: httpx.AsyncClient, mailbox_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/mailboxes/{mailbox_id}", headers=CUSTOMER)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _on(clock: MovableClock, day: date) -> None:
    """Move the clock to 10:00 (UTC) of `day`: 11:00 or 12:00 that day in Italy."""
    clock.now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


async def test_a_downgrade_bought_months_early_waits_for_the_expiry(
    client: httpx.AsyncClient,
    db: Container,
    platform: MailPlatform,
    worker: RunOnce,
    clock: MovableClock,
) -> None:
    await put_mailbox(client, "mbx-pro", "PRO", expires_on=EXPIRY, used_archive_mb=2500)
    quote = await _quote(client, {"mailbox_id": "mbx-pro", "plan": "STANDARD"})
    [item] = quote["items"]
    assert (item["takes_effect"], item["effective_on"]) == ("at_expiry", DAY_AFTER.isoformat())
    assert quote["requires_archive_acknowledgement"] is True

    order = await _order_and_pay(client, quote)
    [ordered] = order["items"]
    assert (ordered["takes_effect"], ordered["effective_on"]) == ("at_expiry", "2027-03-26")

    # Paid: the expiry moves now; the plan, the space and the archive stay until then.
    mailbox = await _mailbox(client, "mbx-pro")
    assert mailbox["expires_on"] == "2028-03-25"
    assert (mailbox["plan"], mailbox["used_archive_mb"]) == ("PRO", 2500)
    assert mailbox["scheduled_change"] == {
        "plan": "STANDARD",
        "extra_mailbox_gb": 0,
        "extra_archive_gb": 0,
        "deletes_archive": True,
        "effective_on": "2027-03-26",
        "order_id": order["id"],
    }
    listed = (await client.get("/v1/mailboxes", headers=CUSTOMER)).json()["items"]
    assert [m["scheduled_change"] for m in listed] == [mailbox["scheduled_change"]]

    # The platform hears of the renewal only: no plan change, no archive deletion yet.
    await worker()
    [renewal] = platform.calls
    assert renewal.path == "/mailboxes/mbx-pro/renewals"
    assert (renewal.body["plan"], renewal.body["delete_archive"]) == ("PRO", False)
    assert renewal.body["expires_on"] == "2028-03-25"

    # A mirror update from the platform meanwhile keeps the scheduled change.
    mirrored = await put_mailbox(
        client, "mbx-pro", "PRO", expires_on=date(2028, 3, 25), used_archive_mb=2600
    )
    assert mirrored["scheduled_change"] == mailbox["scheduled_change"]

    # On the expiry day the customer still has what was paid for.
    _on(clock, EXPIRY)
    await worker()
    assert len(platform.calls) == 1
    assert (await _mailbox(client, "mbx-pro"))["plan"] == "PRO"

    # The day after, the sweep applies it and the platform is told then.
    _on(clock, DAY_AFTER)
    await worker()
    assert len(platform.calls) == 2
    change = platform.calls[1]
    assert change.path == "/mailboxes/mbx-pro/plan-changes"
    assert change.headers["idempotency-key"] == f"plan_change:{order['id']}:mbx-pro"
    assert change.body["action"] == "plan_change"
    assert (change.body["plan"], change.body["delete_archive"]) == ("STANDARD", True)
    assert change.body["effective_on"] == "2027-03-26"
    after = await _mailbox(client, "mbx-pro")
    assert (after["plan"], after["used_archive_mb"], after["extra_archive_gb"]) == (
        "STANDARD",
        0,
        0,
    )
    assert (after["expires_on"], after["scheduled_change"]) == ("2028-03-25", None)

    # Applied once: later passes do nothing more.
    assert await worker() == 0
    assert len(platform.calls) == 2


async def test_an_upgrade_applies_at_payment(
    client: httpx.AsyncClient, db: Container, platform: MailPlatform, worker: RunOnce
) -> None:
    await put_mailbox(client, "mbx-std", "STANDARD", expires_on=EXPIRY)
    quote = await _quote(client, {"mailbox_id": "mbx-std", "plan": "PRO"})
    [item] = quote["items"]
    assert (item["takes_effect"], item["effective_on"]) == ("at_payment", TODAY.isoformat())

    await _order_and_pay(client, quote)
    mailbox = await _mailbox(client, "mbx-std")
    assert (mailbox["plan"], mailbox["expires_on"], mailbox["scheduled_change"]) == (
        "PRO",
        "2028-03-25",
        None,
    )
    await worker()
    [renewal] = platform.calls
    assert (renewal.path, renewal.body["plan"]) == ("/mailboxes/mbx-std/renewals", "PRO")


async def test_a_downgrade_bought_in_the_grace_applies_at_payment(
    client: httpx.AsyncClient, db: Container, platform: MailPlatform, worker: RunOnce
) -> None:
    expired = TODAY - timedelta(days=10)
    await put_mailbox(client, "mbx-late", "PRO", expires_on=expired, used_archive_mb=2500)
    quote = await _quote(client, {"mailbox_id": "mbx-late", "plan": "STANDARD"})
    [item] = quote["items"]
    assert (item["takes_effect"], item["effective_on"]) == ("at_payment", TODAY.isoformat())

    await _order_and_pay(client, quote)
    mailbox = await _mailbox(client, "mbx-late")
    assert (mailbox["plan"], mailbox["used_archive_mb"], mailbox["scheduled_change"]) == (
        "STANDARD",
        0,
        None,
    )
    assert mailbox["expires_on"] == "2027-11-15"  # from the old expiry: no days gained
    await worker()
    [renewal] = platform.calls
    assert (renewal.body["plan"], renewal.body["delete_archive"]) == ("STANDARD", True)


async def test_less_extra_space_waits_too_and_a_newer_upgrade_cancels_it(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-big", "PRO", expires_on=EXPIRY, extra_mailbox_gb=3)
    less = await _quote(client, {"mailbox_id": "mbx-big", "extra_mailbox_gb": 1})
    assert less["items"][0]["takes_effect"] == "at_expiry"
    await _order_and_pay(client, less)
    scheduled = (await _mailbox(client, "mbx-big"))["scheduled_change"]
    assert (scheduled["plan"], scheduled["extra_mailbox_gb"]) == ("PRO", 1)
    assert (await _mailbox(client, "mbx-big"))["extra_mailbox_gb"] == 3

    # The newest paid order decides: an upgrade applies now and drops the waiting change.
    more = await _quote(client, {"mailbox_id": "mbx-big", "extra_mailbox_gb": 4})
    assert more["items"][0]["takes_effect"] == "at_payment"
    await _order_and_pay(client, more)
    mailbox = await _mailbox(client, "mbx-big")
    assert (mailbox["extra_mailbox_gb"], mailbox["scheduled_change"]) == (4, None)


async def test_two_workers_apply_a_due_change_once(
    client: httpx.AsyncClient, db: Container, clock: MovableClock
) -> None:
    await put_mailbox(client, "mbx-pro", "PRO", expires_on=EXPIRY, used_archive_mb=2500)
    downgrade = await _quote(client, {"mailbox_id": "mbx-pro", "plan": "STANDARD"})
    await _order_and_pay(client, downgrade)
    _on(clock, DAY_AFTER)

    applied = await asyncio.gather(
        *(apply_due_plan_changes(db.unit_of_work, clock.now) for _ in range(2))
    )
    assert sorted(applied) == [0, 1]
    assert await apply_due_plan_changes(db.unit_of_work, clock.now) == 0
    async with db.sessionmaker() as session:
        keys = list(await session.scalars(select(OutboxRow.dedupe_key)))
    assert sum(key.startswith("plan_change:") for key in keys) == 1
    assert (await _mailbox(client, "mbx-pro"))["plan"] == "STANDARD"
