"""A payment that fulfils its order in one read and one write
(app/db/pg_payment_in_one_write.py): when something moves between the two, the write
leaves nothing behind and the transaction applies the event, as it would have alone.

Each test delivers a payment over HTTP while a step runs, committed, between the read
and the write: the same event delivered again, a refund of the order, a mailbox changed.
Each runs twice: with the payment read for, and with it written from the process's memory
of the order it placed (app/db/placed_order_memory.py; the step then runs before that
write, which gives way, and the payment is read for).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from app.db.pg_payment_in_one_write import (
    PaymentInOneWrite,
    open_payment_in_one_write,
)
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for, send_generic
from tests.conftest import CUSTOMER, MovableClock
from tests.integration.interleaving import Between, app_interleaving

EXPIRES = date(2027, 1, 10)
RENEWALS_OF_MBX_1 = (
    "select count(*) from outbox where kind = 'mail_platform' and payload->>'mailbox_id' = 'mbx-1'"
)


def opened_with(
    remembered: bool,
) -> Callable[[Container], AbstractAsyncContextManager[PaymentInOneWrite]]:
    """The path as the container opens it, with the process's memory of the orders it
    placed (`remembered`: their payments are written without a read) or without."""

    def opened(container: Container) -> AbstractAsyncContextManager[PaymentInOneWrite]:
        placed = container.memory.placed if remembered else None
        return open_payment_in_one_write(container.engine, container.group_commit, placed)

    return opened


@pytest.fixture(params=[False, True], ids=["read", "from_memory"])
async def paying(
    db: Container, clock: MovableClock, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[httpx.AsyncClient, Between, Container]]:
    async with app_interleaving(
        db, clock, "payment_in_one_write", opened_with(request.param)
    ) as app:
        yield app


async def _placed(client: httpx.AsyncClient, between: Between) -> dict[str, Any]:
    """An unpaid order for mbx-1, whose holder is the one on file: an earlier order of
    the account (for mbx-0), paid, recorded it (a payment that records a holder is
    applied in a transaction)."""
    earlier = await _order_for(client, "mbx-0")
    recorded = await _pay(client, earlier, "evt-earlier")
    assert recorded.json()["outcome"] == "fulfil"
    between.written = None
    return await _order_for(client, "mbx-1")


async def _order_for(client: httpx.AsyncClient, mailbox_id: str) -> dict[str, Any]:
    await put_mailbox(client, mailbox_id, "STANDARD", expires_on=EXPIRES)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": mailbox_id}])
    placed = await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def _scalar(db: Container, query: str) -> Any:
    async with db.engine.connect() as connection:
        return (await connection.execute(text(query))).scalar_one()


async def _pay(client: httpx.AsyncClient, order: dict[str, Any], event_id: str) -> httpx.Response:
    return await send_generic(
        client, "payment.succeeded", order["number"], "12.08", datetime.now(UTC), event_id=event_id
    )


async def test_a_payment_applied_in_one_write_fulfils_its_order_once(
    paying: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = paying
    order = await _placed(client, between)
    paid = await _pay(client, order, "evt-1")
    assert paid.status_code == 200, paid.text
    assert paid.json() == {"received": True, "duplicate": False, "outcome": "fulfil"}
    assert between.written is True
    shown = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert shown["status"] == "FULFILLED"
    assert await _scalar(db, "select expires_on from mailboxes where id = 'mbx-1'") == date(
        2028, 1, 10
    )
    assert await _scalar(db, "select count(*) from pending_renewals") == 0
    renewals = RENEWALS_OF_MBX_1
    assert await _scalar(db, renewals) == 1
    event = f"select outcome from payment_events where order_id = '{order['id']}'"
    assert await _scalar(db, event) == "fulfil"
    again = await _pay(client, order, "evt-1")
    assert again.json() == {"received": True, "duplicate": True, "outcome": None}


async def test_the_same_event_delivered_meanwhile_answers_duplicate(
    paying: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = paying
    order = await _placed(client, between)
    first: list[httpx.Response] = []

    async def delivered_again() -> None:
        first.append(await _pay(client, order, "evt-1"))

    between.step = delivered_again
    late = await _pay(client, order, "evt-1")
    assert first[0].json()["outcome"] == "fulfil"
    assert between.written is False
    assert late.json() == {"received": True, "duplicate": True, "outcome": None}
    assert await _scalar(db, "select count(*) from payment_events where event_id = 'evt-1'") == 1
    assert await _scalar(db, "select expires_on from mailboxes where id = 'mbx-1'") == date(
        2028, 1, 10
    )


async def test_a_refund_that_came_meanwhile_is_settled_by_the_payment(
    paying: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = paying
    order = await _placed(client, between)
    refund: list[httpx.Response] = []

    async def refunded_first() -> None:  # it waits for the payment, and saves the order
        refund.append(
            await send_generic(
                client, "payment.refunded", order["number"], "12.08", datetime.now(UTC)
            )
        )

    between.step = refunded_first
    paid = await _pay(client, order, "evt-1")
    assert refund[0].json()["outcome"] == "wait"
    assert between.written is False
    assert paid.json()["outcome"] == "fulfil"
    shown = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert shown["status"] == "REFUNDED"
    outcomes = (
        "select string_agg(outcome, ',' order by kind) from payment_events "
        f"where order_id = '{order['id']}'"
    )
    assert await _scalar(db, outcomes) == "record_refund,fulfil"


async def test_a_refund_waiting_before_the_read_sends_the_payment_to_the_transaction(
    paying: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, _ = paying
    order = await _placed(client, between)
    refund = await send_generic(
        client, "payment.refunded", order["number"], "12.08", datetime.now(UTC)
    )
    assert refund.json()["outcome"] == "wait"
    between.written = None

    paid = await _pay(client, order, "evt-1")

    assert between.written is None  # the read saw the refund waiting: no write was tried
    assert paid.json()["outcome"] == "fulfil"
    shown = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert shown["status"] == "REFUNDED"
    assert shown["refunded"] == shown["payable"]


async def test_a_mailbox_changed_meanwhile_is_renewed_from_where_it_stands(
    paying: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = paying
    order = await _placed(client, between)

    async def extended() -> None:  # staff moved its expiry by a month
        async with db.engine.begin() as connection:
            await connection.execute(
                text("update mailboxes set expires_on = '2027-02-10' where id = 'mbx-1'")
            )

    between.step = extended
    paid = await _pay(client, order, "evt-1")
    assert between.written is False
    assert paid.json()["outcome"] == "fulfil"
    assert await _scalar(db, "select expires_on from mailboxes where id = 'mbx-1'") == date(
        2028, 2, 10
    )
    renewals = RENEWALS_OF_MBX_1
    assert await _scalar(db, renewals) == 1
