"""Quotes, orders and payments made at once are written together, each answered as its own.

On PostgreSQL the writes that requests reach in the same turn of the event loop go to the
database as one transaction (app/db/group_commit.py); a frontend, or a payment provider,
must not be able to tell: each caller gets its own answer, stored, readable, replayed by
its key, and each payment event is applied once.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from app.container import Container
from app.db.pooled_connection import autocommit_connection
from tests.api.helpers import metric_sample, put_mailbox, quote
from tests.api.order_helpers import new_key, order_body, quote_id_for, send_generic
from tests.conftest import CUSTOMER

ITEMS = [{"mailbox_id": "mbx-g"}]
AT_ONCE = 8


async def _groups(client: httpx.AsyncClient) -> tuple[float, float]:
    return (
        await metric_sample(client, "database_write_groups_total"),
        await metric_sample(client, "database_grouped_writes_total"),
    )


def _grouping(db: Container) -> None:
    if db.group_commit is None:
        pytest.skip("writes are grouped on PostgreSQL only (DATABASE_GROUP_COMMIT)")


async def test_quotes_made_at_once_are_stored_in_one_group_each_answered_as_its_own(
    client: httpx.AsyncClient, db: Container
) -> None:
    _grouping(db)
    await put_mailbox(client, "mbx-g")
    assert (await quote(client, CUSTOMER, ITEMS)).status_code == 201  # the mailbox remembered
    groups_before, writes_before = await _groups(client)

    # Priced from the remembered mailbox, each request reaches its insert without waiting
    # on anything before it: all in the same turn of the loop.
    answers = await asyncio.gather(*(quote(client, CUSTOMER, ITEMS) for _ in range(AT_ONCE)))

    groups_after, writes_after = await _groups(client)
    assert writes_after - writes_before == AT_ONCE
    assert groups_after - groups_before < AT_ONCE  # some were sent together
    assert [answer.status_code for answer in answers] == [201] * AT_ONCE
    ids = [answer.json()["id"] for answer in answers]
    assert len(set(ids)) == AT_ONCE
    for answer in answers:
        stored = await client.get(answer.headers["Location"], headers=CUSTOMER)
        assert stored.json() == answer.json()


async def test_quotes_with_keys_made_at_once_each_replay_their_own_answer(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-g")
    keyed = [new_key(CUSTOMER) for _ in range(AT_ONCE)]
    answers = await asyncio.gather(*(quote(client, headers, ITEMS) for headers in keyed))
    replays = await asyncio.gather(*(quote(client, headers, ITEMS) for headers in keyed))
    for answer, replay in zip(answers, replays, strict=True):
        assert answer.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json() == answer.json()


async def _quoted(client: httpx.AsyncClient, count: int) -> tuple[list[str], list[str]]:
    """`count` new mailboxes, each quoted (and so remembered by this process)."""
    mailboxes = [f"mbx-g{n}" for n in range(count)]
    quotes = []
    for mailbox_id in mailboxes:
        await put_mailbox(client, mailbox_id, "STANDARD")
        quotes.append(await quote_id_for(client, CUSTOMER, [{"mailbox_id": mailbox_id}]))
    return mailboxes, quotes


async def _order(client: httpx.AsyncClient, quote_id: str) -> httpx.Response:
    return await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))


async def test_orders_placed_at_once_are_written_together_each_answered_as_its_own(
    client: httpx.AsyncClient, db: Container
) -> None:
    _grouping(db)
    _, quotes = await _quoted(client, AT_ONCE)
    groups_before, writes_before = await _groups(client)

    # Each quote remembered by this process: each order is its one write, nothing before.
    # Every pooled connection busy, as under load: however far apart the requests reach
    # their write, the writes wait for a connection together and go as one group.
    async with AsyncExitStack() as busy:
        for _ in range(db.settings.database_pool_size + db.settings.database_max_overflow):
            await busy.enter_async_context(autocommit_connection(db.engine))
        placing = asyncio.gather(*(_order(client, quote_id) for quote_id in quotes))
        await asyncio.sleep(0.3)  # ~1 ms of work each before their write
    placed = await placing

    groups_after, writes_after = await _groups(client)
    assert writes_after - writes_before == AT_ONCE
    assert groups_after - groups_before < AT_ONCE
    assert [answer.status_code for answer in placed] == [201] * AT_ONCE, placed[0].text
    orders = [answer.json() for answer in placed]
    assert sorted(order["quote_id"] for order in orders) == sorted(quotes)
    assert len({order["number"] for order in orders}) == AT_ONCE
    for order in orders:
        assert (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json() == order


async def test_payments_received_at_once_each_renew_their_order_once(
    client: httpx.AsyncClient, db: Container
) -> None:
    _grouping(db)
    mailboxes, quotes = await _quoted(client, AT_ONCE + 1)
    orders = [(await _order(client, quote_id)).json() for quote_id in quotes]
    before = [await _expiry(client, mailbox_id) for mailbox_id in mailboxes]
    # The first payment puts the order's holder on file for the account: the others then
    # write nothing but the payment and the renewal, their one write.
    assert (await _pay(client, orders[0])).status_code == 200
    _, writes_before = await _groups(client)

    # Every event delivered twice, all at once.
    paid = await asyncio.gather(*(_pay(client, order) for order in orders[1:] * 2))

    assert [answer.status_code for answer in paid] == [200] * 2 * AT_ONCE, paid[0].text
    assert (await _groups(client))[1] - writes_before >= AT_ONCE  # each event's write grouped
    for order in orders:
        read = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
        assert read["paid_at"] is not None, read
    after = [await _expiry(client, mailbox_id) for mailbox_id in mailboxes]
    assert after == [expiry.replace(year=expiry.year + 1) for expiry in before]  # once each


async def _pay(client: httpx.AsyncClient, order: dict[str, Any]) -> httpx.Response:
    return await send_generic(
        client,
        "payment.succeeded",
        order["number"],
        order["payable"]["amount"],
        datetime.now(UTC),  # a signature is fresh by the wall clock
        event_id=f"evt-{order['id']}",
    )


async def _expiry(client: httpx.AsyncClient, mailbox_id: str) -> date:
    mailbox = (await client.get(f"/v1/mailboxes/{mailbox_id}", headers=CUSTOMER)).json()
    return date.fromisoformat(mailbox["expires_on"])
