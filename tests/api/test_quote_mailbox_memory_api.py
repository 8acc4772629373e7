"""A quote priced from the mailboxes the api remembers is never priced from stale ones.

On PostgreSQL the api remembers the mailboxes it read for a quote, and prices the next
quote of them without reading them again (app/db/mailbox_memory.py): the quote's insert
checks that each is unchanged and visible to the caller. These tests change a mailbox
behind the memory's back, as the staff, another api process or a payment would, and
quote again. On SQLite (nothing remembered) they hold just the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from app.container import Container
from app.db.pooled_connection import autocommit_connection
from tests.api.helpers import TODAY, assert_problem, codes, metric_sample, put_mailbox, quote
from tests.api.order_helpers import new_key, order_body, pay_in_full
from tests.conftest import CUSTOMER, OTHER_CUSTOMER

ITEMS = [{"mailbox_id": "mbx-m"}]


async def _quoted(client: httpx.AsyncClient, headers: dict[str, str] = CUSTOMER) -> Any:
    response = await quote(client, headers, ITEMS)
    assert response.status_code == 201, response.text
    return response.json()


@asynccontextmanager
async def statements_sent(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The SQL sent on pooled connections while inside (asyncpg's query logger, which
    reports each statement at the event loop's next turn). The lean paths take idle
    connections without SQLAlchemy's checkout (app/db/pool_records.py), so the logger is
    put on every connection: those idle now, and any opened meanwhile."""
    sent: list[str] = []
    logging: list[Any] = []

    def logged(record: Any) -> None:
        sent.append(record.query)

    def log(connection: Any) -> None:
        connection.add_query_logger(logged)
        logging.append(connection)

    def opened(dbapi_connection: Any, _record: Any) -> None:
        log(dbapi_connection.driver_connection)

    async with AsyncExitStack() as idle:  # each idle connection borrowed, once
        while engine.sync_engine.pool.checkedin() > 0:  # type: ignore[attr-defined]
            log(await idle.enter_async_context(autocommit_connection(engine)))
    event.listen(engine.sync_engine, "connect", opened)
    try:
        yield sent
        await asyncio.sleep(0)
    finally:
        event.remove(engine.sync_engine, "connect", opened)
        for connection in logging:
            connection.remove_query_logger(logged)


def remembers(db: Container) -> bool:
    return db.engine.dialect.name == "postgresql" and db.settings.quote_mailbox_memory > 0


async def test_a_repeated_quote_is_one_statement(client: httpx.AsyncClient, db: Container) -> None:
    if not remembers(db):
        pytest.skip("the mailboxes are remembered on PostgreSQL only (QUOTE_MAILBOX_MEMORY > 0)")
    await put_mailbox(client, "mbx-m")
    first = await _quoted(client)

    async with statements_sent(db.engine) as sent:
        again = await _quoted(client)

    assert len(sent) == 1, sent
    assert sent[0].lstrip().upper().startswith("INSERT INTO QUOTES"), sent
    assert again["id"] != first["id"]
    assert {k: v for k, v in again.items() if k not in ("id", "created_at")} == {
        k: v for k, v in first.items() if k not in ("id", "created_at")
    }


async def test_a_mailbox_renewed_elsewhere_is_quoted_from_its_new_expiry(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-m", expires_on=TODAY + timedelta(days=30))
    await _quoted(client)
    later = TODAY + timedelta(days=30 + 365)
    await put_mailbox(client, "mbx-m", expires_on=later)  # the mail platform's mirror

    (item,) = (await _quoted(client))["items"]

    assert item["current_expiry"] == later.isoformat()


async def test_a_plan_changed_elsewhere_is_priced_at_the_new_plan(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-m", "STANDARD")
    standard = await _quoted(client)
    await put_mailbox(client, "mbx-m", "PRO")

    pro = await _quoted(client)

    assert pro["items"][0]["current_plan"] == "PRO"
    assert pro["total"] != standard["total"]


async def test_an_order_placed_after_a_quote_blocks_the_next_one_until_paid(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-m")
    first = await _quoted(client)
    placed = await client.post(
        "/v1/orders", json=order_body(first["id"]), headers=new_key(CUSTOMER)
    )
    assert placed.status_code == 201, placed.text

    blocked = await _quoted(client)
    assert blocked["status"] == "blocked"
    assert "pending_order_exists" in codes(blocked["items"][0])

    order = placed.json()
    paid = await pay_in_full(client, order)
    assert paid.status_code == 200, paid.text
    renewed = await _quoted(client)
    assert renewed["status"] == "ok", renewed["items"][0]["issues"]
    assert renewed["items"][0]["current_expiry"] == first["items"][0]["new_expiry"]


async def test_a_remembered_mailbox_is_not_quoted_for_a_customer_who_cannot_see_it(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-m", account_id="acc-1")
    await _quoted(client, CUSTOMER)

    stranger = await quote(client, OTHER_CUSTOMER, ITEMS)

    assert_problem(stranger, 404, "mailbox_not_found")


async def test_a_mailbox_moved_to_another_account_is_no_longer_quoted_for_the_first(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-m", account_id="acc-1")
    await _quoted(client, CUSTOMER)
    await put_mailbox(client, "mbx-m", account_id="acc-2")

    former = await quote(client, CUSTOMER, ITEMS)
    new_owner = await quote(client, OTHER_CUSTOMER, ITEMS)

    assert_problem(former, 404, "mailbox_not_found")
    assert new_owner.status_code == 201, new_owner.text


async def test_quotes_asked_once_a_plan_change_is_acknowledged_all_price_the_new_plan(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-m", "STANDARD")
    await _quoted(client)  # remembered as STANDARD

    # Quotes in flight while the plan changes: each may price either plan, and some
    # remember the old one after the change (their read came first).
    during = asyncio.gather(*(quote(client, CUSTOMER, ITEMS) for _ in range(8)))
    answered, _ = await asyncio.gather(during, put_mailbox(client, "mbx-m", "PRO"))
    after = await asyncio.gather(*(quote(client, CUSTOMER, ITEMS) for _ in range(8)))

    assert all(answer.status_code == 201 for answer in [*answered, *after])
    assert {answer.json()["items"][0]["current_plan"] for answer in after} == {"PRO"}


async def test_the_metrics_tell_how_often_quotes_were_priced_from_memory(
    client: httpx.AsyncClient, db: Container
) -> None:
    items = [{"mailbox_id": "mbx-counted"}]  # never quoted before in this process
    before = {source: await sample(client, source) for source in SOURCES}
    await put_mailbox(client, "mbx-counted", "STANDARD")
    assert (await quote(client, CUSTOMER, items)).status_code == 201  # read
    assert (await quote(client, CUSTOMER, items)).status_code == 201  # from memory
    await put_mailbox(client, "mbx-counted", "PRO")
    assert (await quote(client, CUSTOMER, items)).status_code == 201  # read again

    counted = {source: await sample(client, source) - before[source] for source in SOURCES}

    if remembers(db):
        assert counted == {"memory": 1, "read": 1, "read_again": 1}
    else:
        assert counted == {"memory": 0, "read": 3, "read_again": 0}


SOURCES = ("memory", "read", "read_again")


async def sample(client: httpx.AsyncClient, source: str) -> float:
    return await metric_sample(client, "quote_mailboxes_total", source=source)
