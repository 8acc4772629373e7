"""A payment for an order this process placed, from its memory of the order
(app/db/placed_order_memory.py): one round trip, the write. When the holder on file
changed since the order, that write leaves nothing behind and the payment is read for,
then applied as it would have been without the memory. (A refund or a mailbox changed
meanwhile: tests/integration/test_payment_in_one_write.py runs each case both ways.)

Each test places its order and pays it over HTTP through one app, as a customer and
their provider reach the same api process; a step runs, committed, before the write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from app.container import Container
from tests.api.helpers import metric_sample
from tests.api.order_helpers import PERSON
from tests.api.test_holder_on_file_api import LUIGI, account_body, holder_on_file, put_account
from tests.conftest import CUSTOMER, MovableClock
from tests.integration.interleaving import Between, app_interleaving
from tests.integration.test_payment_in_one_write import (
    RENEWALS_OF_MBX_1,
    _pay,
    _placed,
    _scalar,
    opened_with,
)

FROM_MEMORY = "payments_from_memory_total"


@pytest.fixture
async def paying(
    db: Container, clock: MovableClock
) -> AsyncIterator[tuple[httpx.AsyncClient, Between, Container]]:
    async with app_interleaving(db, clock, "payment_in_one_write", opened_with(True)) as app:
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
