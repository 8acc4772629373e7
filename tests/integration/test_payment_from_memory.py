"""A payment for an order this process placed, from its memory of the order
(app/db/placed_order_memory.py): one round trip, the write. When anything moved since
the order (a refund, a mailbox, the holder on file), that write leaves nothing behind and
the payment is read for, then applied as it would have been without the memory.

Each test places its order and pays it over HTTP through one app, as a customer and
their provider reach the same api process; a step runs, committed, before the write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime

import httpx
import pytest

from app.container import Container
from app.db.pg_payment_in_one_write import PaymentInOneWrite, open_payment_in_one_write
from tests.api.helpers import metric_sample
from tests.api.order_helpers import PERSON, send_generic
from tests.api.test_holder_on_file_api import LUIGI, account_body, holder_on_file, put_account
from tests.conftest import CUSTOMER, MovableClock
from tests.integration.interleaving import Between, app_interleaving
from tests.integration.test_payment_in_one_write import (
    RENEWALS_OF_MBX_1,
    _pay,
    _placed,
    _scalar,
)

FROM_MEMORY = "payments_from_memory_total"


@pytest.fixture
async def paying(
    db: Container, clock: MovableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Between, Container]]:
    def opened(container: Container) -> AbstractAsyncContextManager[PaymentInOneWrite]:
        placed = container.memory.placed
        return open_payment_in_one_write(container.engine, container.group_commit, placed)

    async with app_interleaving(db, clock, "payment_in_one_write", opened) as app:
        yield app


async def test_a_payment_for_an_order_placed_here_is_written_without_a_read(
    paying: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = paying
    order = await _placed(client, between)
    between.reads = 0

    paid = await _pay(client, order, "evt-1")

    assert paid.json() == {"received": True, "duplicate": False, "outcome": "fulfil"}
    assert (between.reads, between.written) == (0, True)
    assert await metric_sample(client, FROM_MEMORY, outcome="written") == 1
    shown = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert shown["status"] == "FULFILLED"
    assert await _scalar(db, "select expires_on from mailboxes where id = 'mbx-1'") == date(
        2028, 1, 10
    )
    assert await _scalar(db, "select count(*) from pending_renewals") == 0
    assert await _scalar(db, RENEWALS_OF_MBX_1) == 1
    # The provider's retry: the order is no longer remembered, the read finds the event.
    again = await _pay(client, order, "evt-1")
    assert again.json() == {"received": True, "duplicate": True, "outcome": None}
    assert between.reads == 1


async def test_a_refund_since_the_order_sends_its_payment_to_the_read(
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


async def test_a_mailbox_changed_since_the_order_is_renewed_from_where_it_stands(
    paying: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, db = paying
    order = await _placed(client, between)
    between.reads = 0

    async def extended() -> None:  # staff moved its expiry by a month
        async with db.engine.begin() as connection:
            await connection.exec_driver_sql(
                "update mailboxes set expires_on = '2027-02-10' where id = 'mbx-1'"
            )

    between.step = extended
    paid = await _pay(client, order, "evt-1")

    assert (between.written, between.reads) == (False, 1)
    assert paid.json()["outcome"] == "fulfil"
    assert await _scalar(db, "select expires_on from mailboxes where id = 'mbx-1'") == date(
        2028, 2, 10
    )
    assert await _scalar(db, RENEWALS_OF_MBX_1) == 1


async def test_a_holder_on_file_changed_since_the_order_gives_way_to_the_orders(
    paying: tuple[httpx.AsyncClient, Between, Container],
) -> None:
    client, between, _ = paying
    order = await _placed(client, between)  # its holder, PERSON, is the account's on file
    between.reads = 0

    async def edited() -> None:  # staff put another holder on the account meanwhile
        await put_account(client, "acc-1", account_body(holder=LUIGI))

    between.step = edited
    paid = await _pay(client, order, "evt-1")

    assert (between.written, between.reads) == (False, 1)
    assert paid.json()["outcome"] == "fulfil"
    # At fulfilment the holder the order gave becomes the record again, Luigi kept.
    on_file = await holder_on_file(client, "mbx-1")
    assert on_file is not None
    assert on_file["holder"]["tax_code"] == PERSON["tax_code"]
    history = (await put_account(client, "acc-1", account_body()))["holder_history"]
    assert LUIGI["tax_code"] in [old["holder"]["tax_code"] for old in history]
