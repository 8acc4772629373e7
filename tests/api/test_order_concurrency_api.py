"""Orders and payments under concurrency, on the real PostgreSQL database.

Every `asyncio.gather` below sends real parallel requests through one ASGI app: each
request runs in its own transaction on its own connection, so the races are the
database's (unique constraints, row locks), not the test's. Webhooks are signed with
the wall clock because the providers' libraries check timestamps against it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.adapters.webhook_signing import (
    generic_payment,
    generic_signed,
    stripe_payment_succeeded,
    stripe_signed,
)
from app.container import Container
from app.services import payments
from app.settings import DEV_GENERIC_SECRET, DEV_STRIPE_SECRET
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for, send_generic
from tests.conftest import CUSTOMER, STAFF

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

EXPIRES = date(2027, 1, 10)


# --- helpers --------------------------------------------------------------------------------


async def scalar(db: Container, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar_one()


async def count(db: Container, table: str, where: str = "TRUE", **params: Any) -> int:
    found: int = await scalar(db, f"SELECT count(*) FROM {table} WHERE {where}", **params)
    return found


async def expiry_of(db: Container, mailbox_id: str) -> date:
    found: date = await scalar(db, "SELECT expires_on FROM mailboxes WHERE id = :id", id=mailbox_id)
    return found


async def place_order(
    client: httpx.AsyncClient,
    mailbox_ids: list[str],
    *,
    years: int = 1,
    method: str = "bank_transfer",
) -> dict[str, Any]:
    for mailbox_id in mailbox_ids:
        await put_mailbox(client, mailbox_id, "STANDARD", expires_on=EXPIRES)
    quote_id = await quote_id_for(
        client, CUSTOMER, [{"mailbox_id": m} for m in mailbox_ids], years=years
    )
    placed = await client.post(
        "/v1/orders", json=order_body(quote_id, method), headers=new_key(CUSTOMER)
    )
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def get_order(client: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/orders/{order_id}", headers=CUSTOMER)
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


async def reconciliation(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/admin/reconciliation", headers=STAFF)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def signed_payment(
    provider: str, order: dict[str, Any], event_id: str
) -> tuple[str, bytes, dict[str, str]]:
    """One correctly signed payment of the order's payable amount, as the provider sends it."""
    now = datetime.now(UTC)
    amount = order["payable"]["amount"]
    if provider == "stripe":
        cents = int(amount.replace(".", ""))
        event = stripe_payment_succeeded(order["id"], cents, "EUR", now, event_id)
        body, headers = stripe_signed(event, DEV_STRIPE_SECRET, now)
    else:
        payment = generic_payment("payment.succeeded", order["number"], amount, "EUR")
        body, headers = generic_signed(payment, DEV_GENERIC_SECRET, now, event_id)
    return f"/v1/webhooks/payments/{provider}", body, headers


def keyed(key: str | None) -> dict[str, str]:
    return {**CUSTOMER, "Idempotency-Key": key} if key is not None else CUSTOMER


# --- placing orders -------------------------------------------------------------------------


async def test_twenty_identical_orders_with_one_key_make_one_order(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=EXPIRES)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    body = order_body(quote_id)

    responses = await asyncio.gather(
        *(client.post("/v1/orders", json=body, headers=keyed("order-key")) for _ in range(20))
    )

    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert all(b == bodies[0] for b in bodies)
    replayed = [r.headers.get("idempotent-replayed") for r in responses]
    assert replayed.count("true") == 19
    assert replayed.count(None) == 1
    order_id = bodies[0]["id"]
    assert {r.headers["location"] for r in responses} == {f"/v1/orders/{order_id}"}
    assert await count(db, "orders") == 1
    assert await count(db, "pending_renewals", "order_id = :o", o=order_id) == 1
    assert await count(db, "pending_renewals") == 1
    assert await count(db, "outbox", "kind = 'email'") == 1
    assert await count(db, "outbox", "dedupe_key = :k", k=f"order-confirmation:{order_id}") == 1
    assert await get_order(client, order_id) == bodies[0]


async def test_twenty_orders_for_one_quote_make_one_order(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=EXPIRES)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    body = order_body(quote_id)

    responses = await asyncio.gather(
        *(client.post("/v1/orders", json=body, headers=keyed(f"key-{i}")) for i in range(20))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses]
    (winner,) = [r.json() for r in responses if r.status_code == 201]
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.headers["content-type"].startswith("application/problem+json")
        assert loser.json()["code"] == "quote_already_ordered"
        assert loser.json()["order_id"] == winner["id"]
        assert "idempotent-replayed" not in loser.headers
    assert await count(db, "orders") == 1
    assert await count(db, "pending_renewals") == 1
    assert await count(db, "outbox", "kind = 'email'") == 1


async def test_quotes_of_one_mailbox_ordered_concurrently_make_one_order(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=EXPIRES)
    quote_ids = [
        await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}], years=1 + i % 3)
        for i in range(10)
    ]

    responses = await asyncio.gather(
        *(
            client.post("/v1/orders", json=order_body(q), headers=new_key(CUSTOMER))
            for q in quote_ids
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]
    (winner,) = [r.json() for r in responses if r.status_code == 201]
    for loser in (r for r in responses if r.status_code == 409):
        assert loser.headers["content-type"].startswith("application/problem+json")
        problem = loser.json()
        assert problem["code"] == "pending_order_exists"
        assert problem["order_id"] == winner["id"]
        assert problem["mailbox_id"] == "mbx-1"
    assert await count(db, "orders") == 1
    assert await scalar(db, "SELECT order_id FROM pending_renewals") == winner["id"]
    assert await count(db, "pending_renewals") == 1
    assert await count(db, "outbox", "kind = 'email'") == 1


async def test_two_quotes_sharing_a_mailbox_ordered_concurrently_make_one_order(
    client: httpx.AsyncClient, db: Container
) -> None:
    """The other mailboxes of the losing order are not held either: all or nothing."""
    for mailbox_id in ("mbx-1", "mbx-2", "mbx-3"):
        await put_mailbox(client, mailbox_id, "STANDARD", expires_on=EXPIRES)
    first = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-2"}, {"mailbox_id": "mbx-1"}])
    second = await quote_id_for(
        client, CUSTOMER, [{"mailbox_id": "mbx-3"}, {"mailbox_id": "mbx-1"}]
    )

    responses = await asyncio.gather(
        *(
            client.post("/v1/orders", json=order_body(q), headers=new_key(CUSTOMER))
            for q in (first, second)
        )
    )

    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    (winner,) = [r.json() for r in responses if r.status_code == 201]
    (loser,) = [r.json() for r in responses if r.status_code == 409]
    assert loser["code"] == "pending_order_exists"
    assert loser["order_id"] == winner["id"]
    assert loser["mailbox_id"] == "mbx-1"
    held = {item["mailbox_id"] for item in winner["items"]}
    assert await count(db, "orders") == 1
    assert await count(db, "pending_renewals") == 2
    assert await count(db, "pending_renewals", "order_id = :o", o=winner["id"]) == 2
    assert "mbx-1" in held
    free = ({"mbx-2", "mbx-3"} - held).pop()
    assert await count(db, "pending_renewals", "mailbox_id = :m", m=free) == 0


# --- payment events -------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["generic", "stripe"])
async def test_fifty_copies_of_one_payment_event_renew_once(
    client: httpx.AsyncClient, db: Container, provider: str
) -> None:
    method = "card" if provider == "stripe" else "bank_transfer"
    order = await place_order(client, ["mbx-1", "mbx-2"], years=2, method=method)
    path, body, headers = signed_payment(provider, order, "evt_the_only_one")

    responses = await asyncio.gather(
        *(client.post(path, content=body, headers=headers) for _ in range(50))
    )

    assert all(200 <= r.status_code < 300 for r in responses), [r.text for r in responses]
    acks = [r.json() for r in responses]
    assert sum(not a["duplicate"] for a in acks) == 1
    assert [a["outcome"] for a in acks if not a["duplicate"]] == ["fulfil"]
    assert all(a["outcome"] is None for a in acks if a["duplicate"])
    assert await count(db, "payment_events") == 1
    assert await scalar(db, "SELECT event_id FROM payment_events") == "evt_the_only_one"
    assert (await get_order(client, order["id"]))["status"] == "FULFILLED"
    for mailbox_id in ("mbx-1", "mbx-2"):
        assert await expiry_of(db, mailbox_id) == date(2029, 1, 10)
        renewal = f"renewal:{order['id']}:{mailbox_id}"
        assert await count(db, "outbox", "dedupe_key = :k", k=renewal) == 1
    assert await count(db, "outbox", "kind = 'mail_platform'") == 2
    assert await count(db, "pending_renewals") == 0
    assert await reconciliation(client) == []


async def test_payments_of_one_accounts_orders_do_not_wait_for_each_other(
    client: httpx.AsyncClient, db: Container
) -> None:
    # The first payment records the order's holder on the account: later ones confirm it.
    first, second, third = [await place_order(client, [m]) for m in ("mbx-1", "mbx-2", "mbx-3")]
    path, body, headers = signed_payment("generic", first, "evt_first")
    assert (await client.post(path, content=body, headers=headers)).status_code == 200

    # A payment of `second` in flight: its order's mailboxes locked, their holders read.
    async with db.unit_of_work() as in_flight:
        await in_flight.mailboxes.lock_for_fulfilment(second["id"], ["mbx-2"], owners=True)
        # Paying `third` meanwhile: same account, same holder; it must not queue behind.
        path, body, headers = signed_payment("generic", third, "evt_third")
        paid = await asyncio.wait_for(client.post(path, content=body, headers=headers), 10)
        assert paid.status_code == 200, paid.text
        assert (await get_order(client, third["id"]))["status"] == "FULFILLED"
    assert await expiry_of(db, "mbx-3") == date(2028, 1, 10)
    assert await expiry_of(db, "mbx-2") == EXPIRES  # the payment in flight was rolled back


@pytest.mark.parametrize("provider", ["generic", "stripe"])
async def test_ten_different_payments_of_one_order_fulfil_once_and_reconcile_the_rest(
    client: httpx.AsyncClient, db: Container, provider: str
) -> None:
    order = await place_order(client, ["mbx-1"], years=1)
    deliveries = [signed_payment(provider, order, f"evt_payment_{i}") for i in range(10)]

    responses = await asyncio.gather(
        *(client.post(path, content=body, headers=headers) for path, body, headers in deliveries)
    )

    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    acks = [r.json() for r in responses]
    assert not any(a["duplicate"] for a in acks)
    assert sorted(a["outcome"] for a in acks) == ["fulfil"] + ["reconcile"] * 9
    assert await count(db, "payment_events") == 10
    assert await count(db, "payment_events", "outcome = 'fulfil'") == 1
    assert await count(db, "payment_events", "reason = 'duplicate_payment'") == 9
    flagged = await reconciliation(client)
    assert len(flagged) == 9
    assert {(f["reason"], f["order_id"]) for f in flagged} == {("duplicate_payment", order["id"])}
    assert all(f["amount"] == {"amount": "12.08", "currency": "EUR"} for f in flagged)
    assert (await get_order(client, order["id"]))["status"] == "FULFILLED"
    assert await expiry_of(db, "mbx-1") == date(2028, 1, 10)
    assert await count(db, "outbox", "kind = 'mail_platform'") == 1


# --- order independence ---------------------------------------------------------------------


def final_state(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": order["status"],
        "payable": order["payable"],
        "refunded": order["refunded"],
        "paid": order["paid_at"] is not None,
        "fulfilled": order["fulfilled_at"] is not None,
        "closed_at": order["closed_at"],
    }


async def event_outcomes(db: Container, order_id: str) -> list[tuple[str, str | None]]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT kind, outcome FROM payment_events WHERE order_id = :o "
                "ORDER BY kind, outcome"
            ),
            {"o": order_id},
        )
        return [(kind, outcome) for kind, outcome in rows]


async def test_a_refund_before_its_payment_waits_and_is_applied_when_the_payment_arrives(
    client: httpx.AsyncClient, db: Container
) -> None:
    order = await place_order(client, ["mbx-1"])
    now = datetime.now(UTC)

    refund = await send_generic(client, "payment.refunded", order["number"], "12.08", now)

    assert refund.status_code == 200, refund.text
    assert refund.json() == {"received": True, "duplicate": False, "outcome": "wait"}
    waiting = await get_order(client, order["id"])
    assert waiting["status"] == "AWAITING_PAYMENT"
    assert waiting["refunded"]["amount"] == "0.00"
    assert await expiry_of(db, "mbx-1") == EXPIRES
    assert await reconciliation(client) == []  # kept, not flagged

    payment = await send_generic(client, "payment.succeeded", order["number"], "12.08", now)

    assert payment.status_code == 200, payment.text
    assert payment.json()["outcome"] == "fulfil"
    final = await get_order(client, order["id"])
    assert final["status"] == "REFUNDED"
    assert final["refunded"] == final["payable"] == {"amount": "12.08", "currency": "EUR"}
    assert final["paid_at"] is not None
    assert final["fulfilled_at"] is not None
    assert await expiry_of(db, "mbx-1") == date(2028, 1, 10)
    assert await count(db, "outbox", "kind = 'mail_platform'") == 1
    assert await event_outcomes(db, order["id"]) == [
        ("payment.refunded", "record_refund"),
        ("payment.succeeded", "fulfil"),
    ]
    assert await reconciliation(client) == []


async def test_payment_and_refund_give_the_same_order_in_either_order(
    client: httpx.AsyncClient, db: Container
) -> None:
    refund_first = await place_order(client, ["mbx-1"])
    payment_first = await place_order(client, ["mbx-2"])
    now = datetime.now(UTC)

    for kind in ("payment.refunded", "payment.succeeded"):
        response = await send_generic(client, kind, refund_first["number"], "12.08", now)
        assert response.status_code == 200, response.text
    for kind in ("payment.succeeded", "payment.refunded"):
        response = await send_generic(client, kind, payment_first["number"], "12.08", now)
        assert response.status_code == 200, response.text

    one = await get_order(client, refund_first["id"])
    other = await get_order(client, payment_first["id"])
    assert final_state(one) == final_state(other)
    assert final_state(one)["status"] == "REFUNDED"
    assert one["refunded"] == one["payable"]
    assert await expiry_of(db, "mbx-1") == await expiry_of(db, "mbx-2") == date(2028, 1, 10)
    assert await event_outcomes(db, refund_first["id"]) == await event_outcomes(
        db, payment_first["id"]
    )
    assert await count(db, "outbox", "kind = 'mail_platform'") == 2


async def test_refunds_and_payments_racing_end_refunded_every_time(
    client: httpx.AsyncClient, db: Container
) -> None:
    orders = [await place_order(client, [f"mbx-{i}"]) for i in range(6)]
    now = datetime.now(UTC)

    responses = await asyncio.gather(
        *(
            send_generic(client, kind, order["number"], "12.08", now)
            for order in orders
            for kind in ("payment.refunded", "payment.succeeded")
        )
    )

    assert [r.status_code for r in responses] == [200] * 12, [r.text for r in responses]
    for order in orders:
        final = await get_order(client, order["id"])
        assert final["status"] == "REFUNDED", final
        assert final["refunded"] == final["payable"]
        assert await event_outcomes(db, order["id"]) == [
            ("payment.refunded", "record_refund"),
            ("payment.succeeded", "fulfil"),
        ]
    for i in range(6):
        assert await expiry_of(db, f"mbx-{i}") == date(2028, 1, 10)
    assert await count(db, "outbox", "kind = 'mail_platform'") == 6
    assert await reconciliation(client) == []


async def test_a_refund_that_starts_waiting_while_the_payment_waits_for_the_order_is_settled(
    client: httpx.AsyncClient, db: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The payment's first statement reads whether refunds wait before it waits for the
    # order's lock: a refund that starts waiting meanwhile must still be settled by it.
    order = await place_order(client, ["mbx-1"])
    now = datetime.now(UTC)
    refund_holds_the_order = asyncio.Event()
    go_on = asyncio.Event()
    apply_event = payments.apply_event

    async def refund_paused(uow: Any, event: Any, locked: Any, at: datetime) -> str:
        if event.kind == "payment.refunded":  # the order locked, the decision not yet made
            refund_holds_the_order.set()
            await go_on.wait()
        return await apply_event(uow, event, locked, at)

    monkeypatch.setattr(payments, "apply_event", refund_paused)
    refund = asyncio.create_task(
        send_generic(client, "payment.refunded", order["number"], "12.08", now)
    )
    await asyncio.wait_for(refund_holds_the_order.wait(), 10)
    payment = asyncio.create_task(
        send_generic(client, "payment.succeeded", order["number"], "12.08", now)
    )
    await _until_one_waits_for_a_lock(db)  # the payment's statement has begun
    go_on.set()  # the refund decides (no payment yet: it waits) and commits

    assert (await asyncio.wait_for(refund, 10)).json()["outcome"] == "wait"
    assert (await asyncio.wait_for(payment, 10)).json()["outcome"] == "fulfil"
    final = await get_order(client, order["id"])
    assert final["status"] == "REFUNDED", final
    assert await event_outcomes(db, order["id"]) == [
        ("payment.refunded", "record_refund"),
        ("payment.succeeded", "fulfil"),
    ]


async def _until_one_waits_for_a_lock(db: Container) -> None:
    for _ in range(200):
        waiting = await scalar(
            db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("nothing waited for a lock")


async def test_a_failure_after_a_success_leaves_the_order_fulfilled(
    client: httpx.AsyncClient, db: Container
) -> None:
    order = await place_order(client, ["mbx-1"])
    now = datetime.now(UTC)

    paid = await send_generic(client, "payment.succeeded", order["number"], "12.08", now)
    failed = await send_generic(client, "payment.failed", order["number"], "12.08", now)

    assert paid.status_code == failed.status_code == 200, failed.text
    assert paid.json()["outcome"] == "fulfil"
    assert failed.json()["outcome"] == "record_failure"
    final = await get_order(client, order["id"])
    assert final["status"] == "FULFILLED"
    assert final["paid_at"] is not None
    assert final["refunded"]["amount"] == "0.00"
    assert await expiry_of(db, "mbx-1") == date(2028, 1, 10)
    assert await count(db, "payment_events") == 2
    assert await reconciliation(client) == []


async def test_a_failure_racing_a_success_never_undoes_it(
    client: httpx.AsyncClient, db: Container
) -> None:
    orders = [await place_order(client, [f"mbx-{i}"]) for i in range(5)]
    now = datetime.now(UTC)

    responses = await asyncio.gather(
        *(
            send_generic(client, kind, order["number"], "12.08", now)
            for order in orders
            for kind in ("payment.failed", "payment.succeeded")
        )
    )

    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    for i, order in enumerate(orders):
        assert (await get_order(client, order["id"]))["status"] == "FULFILLED"
        assert await expiry_of(db, f"mbx-{i}") == date(2028, 1, 10)
