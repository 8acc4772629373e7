"""A payment event that can't be applied for now is retried, never lost, never misjudged.

A failure to apply (a lost connection, a lock that times out) is not a decision about
the money: the worker tries again with backoff until the event applies, and only one
that keeps failing for a day is flagged. Staff can then apply it again by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.adapters.payment_webhooks import read_event
from app.adapters.webhook_signing import generic_payment, generic_signed
from app.container import Container
from app.services import payment_retries
from app.settings import DEV_GENERIC_SECRET
from app.worker import STRAGGLER_AGE
from tests import database
from tests.api.helpers import TODAY, assert_problem, put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for, send_generic
from tests.conftest import CUSTOMER, STAFF, MovableClock, bearer

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

PAYABLE = "12.08"  # STANDARD, 1 year
TERMINATE_OTHERS = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
APPLIED = "SELECT count(*) FROM payment_events WHERE processed_at IS NOT NULL"


async def _order(client: httpx.AsyncClient, mailbox_id: str, account: str = "acc-1") -> Any:
    headers = bearer("customer", account)
    quote_id = await quote_id_for(client, headers, [{"mailbox_id": mailbox_id}])
    placed = await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(headers))
    assert placed.status_code == 201, placed.text
    return placed.json()


async def _rows(db: Container, sql: str, **params: Any) -> list[Any]:
    async with db.engine.connect() as connection:
        return list((await connection.execute(text(sql), params)).all())


def _admin_dsn(database: database.TestDatabase) -> str:
    return make_url(database.url).set(drivername="postgresql").render_as_string(False)


# --- the fault test: connections dropped every 50 ms while the worker applies ----------------


async def _terminate_backends_until(stop: asyncio.Event, dsn: str) -> int:
    """Kill every other backend of the database every ~50 ms, as a failover would.

    When a whole interval passes without an event applied (a loaded machine, other test
    processes beside this one), the next kill waits twice as long, up to a second: the
    connections still drop mid-apply, and the test cannot starve the worker for ever."""
    admin = await asyncpg.connect(dsn)
    killed = 0
    interval, applied = 0.05, 0
    try:
        while not stop.is_set():
            killed += sum(1 for row in await admin.fetch(TERMINATE_OTHERS) if row[0])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            now_applied = await admin.fetchval(APPLIED)
            interval = 0.05 if now_applied > applied else min(interval * 2, 1.0)
            applied = now_applied
    finally:
        await admin.close()
    return killed


async def _store_unapplied(db: Container, orders: list[dict[str, Any]]) -> None:
    """Verified events for each order, stored as the receive path does, not yet applied."""
    async with db.unit_of_work() as uow:
        for order in orders:
            payment = generic_payment("payment.succeeded", order["number"], PAYABLE, "EUR")
            body, headers = generic_signed(payment, DEV_GENERIC_SECRET, datetime.now(UTC))
            event = read_event(
                "generic", body, {k.lower(): v for k, v in headers.items()}, db.webhook_secrets
            )
            values = {**event, "provider": "generic", "received_at": db.clock()}
            assert await uow.payment_events.add(values) is not None
        await uow.commit()


async def test_events_applied_while_connections_drop_are_each_applied_exactly_once(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    test_database: database.TestDatabase,
) -> None:
    count = 60
    for n in range(count):
        await put_mailbox(client, f"mbx-{n}", expires_on=date(2027, 1, 10))
    orders = [await _order(client, f"mbx-{n}") for n in range(count)]
    await _store_unapplied(db, orders)

    stop = asyncio.Event()
    killer = asyncio.create_task(_terminate_backends_until(stop, _admin_dsn(test_database)))
    passes = failed_passes = 0
    try:
        async with asyncio.timeout(90):
            while True:
                clock.advance(STRAGGLER_AGE + timedelta(seconds=1))
                passes += 1
                try:
                    await payment_retries.retry_due_events(db.unit_of_work, clock(), STRAGGLER_AGE)
                    async with db.engine.connect() as connection:
                        left = (
                            await connection.execute(
                                text(
                                    "SELECT count(*) FROM payment_events WHERE processed_at IS NULL"
                                )
                            )
                        ).scalar_one()
                except Exception:  # the pass lost its connection: the next one goes on
                    failed_passes += 1
                    continue
                if left == 0:
                    break
    finally:
        stop.set()
        killed = await killer
        await db.engine.dispose()  # the next tests get fresh connections, not killed ones

    assert killed > 0
    outcomes = await _rows(db, "SELECT outcome, reason, count(*) FROM payment_events GROUP BY 1, 2")
    assert [tuple(row) for row in outcomes] == [("fulfil", None, count)]
    statuses = await _rows(db, "SELECT status, count(*) FROM orders GROUP BY status")
    assert [tuple(row) for row in statuses] == [("FULFILLED", count)]
    expiries = await _rows(db, "SELECT expires_on, count(*) FROM mailboxes GROUP BY expires_on")
    assert [tuple(row) for row in expiries] == [(date(2028, 1, 10), count)]  # moved once
    renewals = await _rows(db, "SELECT count(*) FROM outbox WHERE kind = 'mail_platform'")
    assert renewals[0][0] == count
    flagged = (await client.get("/v1/admin/reconciliation", headers=STAFF)).json()["items"]
    assert flagged == []


# --- a real, lasting cause: the order stays locked by a stuck transaction -------------------


@contextlib.asynccontextmanager
async def _order_locked_by_a_stuck_transaction(
    db: Container, test_database: database.TestDatabase, order_id: str
) -> AsyncIterator[None]:
    """Another session holds the order's row; ours give up on it after 200 ms."""
    dsn = _admin_dsn(test_database)
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"ALTER DATABASE \"{test_database.name}\" SET lock_timeout = '200ms'")
    await db.engine.dispose()  # new connections take the setting
    holder = await asyncpg.connect(dsn)
    stuck = holder.transaction()
    await stuck.start()
    await holder.execute("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", order_id)
    try:
        yield
    finally:
        await stuck.rollback()
        await holder.close()
        await admin.execute(f'ALTER DATABASE "{test_database.name}" RESET lock_timeout')
        await admin.close()
        await db.engine.dispose()


async def _flagged_after_a_day_of_lock_timeouts(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    test_database: database.TestDatabase,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order, and its payment event flagged processing_failed after 24 hours."""
    await put_mailbox(client, "mbx-1", expires_on=date(2027, 1, 10))
    order = await _order(client, "mbx-1")
    async with _order_locked_by_a_stuck_transaction(db, test_database, order["id"]):
        received = await send_generic(
            client, "payment.succeeded", order["number"], PAYABLE, datetime.now(UTC)
        )
        assert received.status_code == 200, received.text
        assert received.json() == {"received": True, "duplicate": False, "outcome": None}

        for _ in range(3):  # a few hours of retries: still pending, never flagged
            clock.advance(timedelta(hours=1))
            await payment_retries.retry_due_events(db.unit_of_work, clock(), STRAGGLER_AGE)
            held = (await client.get("/v1/admin/reconciliation", headers=STAFF)).json()
            assert held["items"] == []
        (pending,) = await _rows(db, "SELECT attempts, processed_at FROM payment_events")
        assert (pending.attempts, pending.processed_at) == (4, None)

        clock.advance(timedelta(hours=21))  # 24 hours after the first failure
        await payment_retries.retry_due_events(db.unit_of_work, clock(), STRAGGLER_AGE)

    (flagged,) = (await client.get("/v1/admin/reconciliation", headers=STAFF)).json()["items"]
    return order, flagged


async def test_an_event_that_fails_for_a_day_is_flagged_with_its_last_error(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    test_database: database.TestDatabase,
) -> None:
    order, flagged = await _flagged_after_a_day_of_lock_timeouts(client, db, clock, test_database)

    assert flagged["reason"] == "processing_failed"
    assert flagged["attempts"] == 5
    assert "lock timeout" in flagged["last_error"]
    after = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert after["status"] == "AWAITING_PAYMENT"


# --- staff apply a held event again ----------------------------------------------------------


async def test_staff_apply_again_an_event_whose_cause_is_fixed(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    test_database: database.TestDatabase,
) -> None:
    order, flagged = await _flagged_after_a_day_of_lock_timeouts(client, db, clock, test_database)
    url = f"/v1/admin/payment-events/{flagged['event_row_id']}/retry"

    forbidden = await client.post(url, headers=CUSTOMER)
    applied = await client.post(url, headers=STAFF)
    again = await client.post(url, headers=STAFF)

    assert_problem(forbidden, 403, "forbidden")
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert (body["outcome"], body["reason"], body["order_id"]) == ("fulfil", None, order["id"])
    assert body["attempts"] == 5
    assert body["processed_at"] is not None
    assert_problem(again, 409, "payment_event_already_applied")
    after = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert after["status"] == "FULFILLED"
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert mailbox["expires_on"] == "2028-01-10"
    assert (await client.get("/v1/admin/reconciliation", headers=STAFF)).json()["items"] == []


async def test_an_event_applied_again_that_still_does_not_match_stays_held(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1")
    await send_generic(client, "payment.succeeded", "PEC-2026-9999999", PAYABLE, datetime.now(UTC))
    (held,) = (await client.get("/v1/admin/reconciliation", headers=STAFF)).json()["items"]

    answer = await client.post(
        f"/v1/admin/payment-events/{held['event_row_id']}/retry", headers=STAFF
    )

    assert answer.status_code == 200, answer.text
    assert (answer.json()["outcome"], answer.json()["reason"]) == ("reconcile", "unknown_order")
    assert len((await client.get("/v1/admin/reconciliation", headers=STAFF)).json()["items"]) == 1


async def test_an_applied_or_unknown_event_cannot_be_applied_again(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-1", expires_on=TODAY + timedelta(days=30))
    order = await _order(client, "mbx-1")
    paid = await send_generic(
        client, "payment.succeeded", order["number"], PAYABLE, datetime.now(UTC)
    )
    assert paid.json()["outcome"] == "fulfil"
    [(event_row_id,)] = await _rows(db, "select id from payment_events")

    applied = await client.post(f"/v1/admin/payment-events/{event_row_id}/retry", headers=STAFF)
    unknown = await client.post("/v1/admin/payment-events/999999/retry", headers=STAFF)

    assert_problem(applied, 409, "payment_event_already_applied")
    assert_problem(unknown, 404, "payment_event_not_found")
