"""An order still unpaid when its mailbox's grace ends expires; a late payment is kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.container import Container
from app.services.orders import expire_unpaid_orders
from tests.api.helpers import TODAY, put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for, send_generic
from tests.conftest import CUSTOMER, STAFF, MovableClock

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's


async def test_unpaid_order_expires_when_the_grace_ends_and_a_late_payment_is_reconciled(
    client: httpx.AsyncClient, db: Container, clock: MovableClock
) -> None:
    expired_on = TODAY - timedelta(days=80)  # in grace for ten more days
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=expired_on)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    order = (
        await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))
    ).json()

    assert await expire_unpaid_orders(db.unit_of_work(), clock()) == 0  # still in grace
    clock.advance(timedelta(days=11))
    assert await expire_unpaid_orders(db.unit_of_work(), clock()) == 1

    expired = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert expired["status"] == "EXPIRED"
    late = await send_generic(
        client, "payment.succeeded", order["number"], "12.08", datetime.now(UTC)
    )
    assert late.json()["outcome"] == "reconcile"
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert mailbox["expires_on"] == expired_on.isoformat()  # not renewed
    assert mailbox["status"] == "DELETED"
    listed = (await client.get("/v1/admin/reconciliation", headers=STAFF)).json()["items"]
    assert [(i["order_id"], i["reason"]) for i in listed] == [(order["id"], "order_closed")]


async def test_orders_of_mailboxes_in_good_standing_never_expire(
    client: httpx.AsyncClient, db: Container, clock: MovableClock
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=TODAY + timedelta(days=20))
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))

    clock.advance(timedelta(days=100))  # expiry + 80 days: still in grace

    assert await expire_unpaid_orders(db.unit_of_work(), clock()) == 0
