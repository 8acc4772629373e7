"""Partner events delivered as Standard Webhooks to a real receiver on loopback, which
verifies each signature with the `standardwebhooks` library; the worker's own deliverer,
the real database, the injected clock moved past each backoff."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import httpx

from app.container import Container
from app.domain.partner_webhook import RETRY_WINDOW, retry_delay
from app.services.partner_events import notify_partner
from tests.api.webhook_receiver import Delivery, Receiver, local_hooks
from tests.conftest import PARTNER, MovableClock

LOG = "/v1/partner/webhook-deliveries"
DATA = {"mailbox_id": "mbx-1", "order_id": "ord_1", "expires_on": "2028-01-15"}


async def _set_endpoint(client: httpx.AsyncClient, receiver: Receiver, url: str = "") -> None:
    answer = await client.put(
        "/v1/partner/webhook-endpoint", json={"url": url or receiver.url}, headers=PARTNER
    )
    assert answer.status_code == 201, answer.text
    receiver.secret = answer.json()["secret"]


async def _notify(db: Container, key: str = "ord_1", partner_id: str = "ptn-1") -> str:
    async with db.unit_of_work() as uow:
        event_id = await notify_partner(uow, partner_id, "renewal.completed", key, DATA, db.clock())
        await uow.commit()
    return event_id


async def _event_for_a_failing_receiver(
    db: Container, client: httpx.AsyncClient, receiver: Receiver, failures: int
) -> str:
    """An endpoint set to `receiver`, which answers 503 to the first `failures`
    deliveries, and an event queued for it."""
    await _set_endpoint(client, receiver)
    receiver.fail_first = failures
    return await _notify(db)


async def _logged(client: httpx.AsyncClient, event_id: str) -> dict[str, Any]:
    page = await client.get(LOG, headers=PARTNER)
    assert page.status_code == 200, page.text
    (found,) = [d for d in page.json()["items"] if d["id"] == event_id]
    return dict(found)


async def test_an_event_is_delivered_signed_and_verified_by_the_partner(
    db: Container, local_client: httpx.AsyncClient, receiver: Receiver, delivery: Delivery
) -> None:
    await _set_endpoint(local_client, receiver)
    event_id = await _notify(db)

    await delivery.run()

    (sent,) = receiver.received
    assert sent.verified == {
        "id": event_id,
        "type": "renewal.completed",
        "timestamp": db.clock().isoformat(),
        "data": DATA,
    }
    assert sent.headers["webhook-id"] == event_id
    assert sent.headers["content-type"] == "application/json"
    logged = await _logged(local_client, event_id)
    assert logged["status"] == "delivered"
    assert [(a["status_code"], a["succeeded"]) for a in logged["attempts"]] == [(204, True)]
    assert logged["attempts"][0]["url"] == receiver.url
    await delivery.run()
    assert len(receiver.received) == 1  # delivered once


async def test_three_failures_then_the_fourth_attempt_succeeds_after_each_backoff(
    db: Container,
    clock: MovableClock,
    local_client: httpx.AsyncClient,
    receiver: Receiver,
    delivery: Delivery,
) -> None:
    event_id = await _event_for_a_failing_receiver(db, local_client, receiver, 3)
    await delivery.run()
    assert len(receiver.received) == 1

    for attempts in (1, 2, 3):
        clock.advance(retry_delay(attempts) - timedelta(seconds=1))
        await delivery.run()
        assert len(receiver.received) == attempts  # not before the backoff is over
        clock.advance(timedelta(seconds=1))
        await delivery.run()
        assert len(receiver.received) == attempts + 1

    assert [r.status for r in receiver.received] == [503, 503, 503, 204]
    assert {r.headers["webhook-id"] for r in receiver.received} == {event_id}
    assert all(r.verified is not None for r in receiver.received)
    logged = await _logged(local_client, event_id)
    assert logged["status"] == "delivered"
    assert logged["attempt_count"] == 4
    assert [a["status_code"] for a in logged["attempts"]] == [503, 503, 503, 204]
    times = [datetime.fromisoformat(a["attempted_at"]) for a in logged["attempts"]]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert gaps == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]


async def _run_until_settled(
    delivery: Delivery, clock: MovableClock, receiver: Receiver, limit: int = 40
) -> None:
    """Run delivery, moving the clock to each retry, until no retry is left."""
    for _ in range(limit):
        before = len(receiver.received)
        await delivery.run()
        if len(receiver.received) == before:
            return
        clock.advance(retry_delay(len(receiver.received)))
    raise AssertionError("still retrying")


async def test_failures_for_24_hours_give_up_and_a_redelivery_sends_it_again(
    db: Container,
    clock: MovableClock,
    local_client: httpx.AsyncClient,
    receiver: Receiver,
    delivery: Delivery,
) -> None:
    event_id = await _event_for_a_failing_receiver(db, local_client, receiver, 1000)

    await _run_until_settled(delivery, clock, receiver)

    logged = await _logged(local_client, event_id)
    assert logged["status"] == "failed"
    times = [datetime.fromisoformat(a["attempted_at"]) for a in logged["attempts"]]
    assert times[-1] - times[0] >= RETRY_WINDOW > times[-2] - times[0]
    assert len(times) == logged["attempt_count"] == len(receiver.received) == 14
    clock.advance(timedelta(days=7))
    await delivery.run()
    assert len(receiver.received) == 14  # given up: nothing more
    failed = await local_client.get(LOG, params={"status": "failed"}, headers=PARTNER)
    assert [d["id"] for d in failed.json()["items"]] == [event_id]

    receiver.fail_first = 0
    again = await local_client.post(f"{LOG}/{event_id}/redeliver", headers=PARTNER)
    assert again.status_code == 202, again.text
    assert (again.json()["status"], again.json()["redeliveries"]) == ("pending", 1)
    await delivery.run()

    assert receiver.received[-1].status == 204
    assert receiver.received[-1].headers["webhook-id"] == event_id
    logged = await _logged(local_client, event_id)
    assert (logged["status"], logged["attempt_count"]) == ("delivered", 15)


async def test_without_an_endpoint_an_event_is_skipped_until_redelivered(
    db: Container, local_client: httpx.AsyncClient, receiver: Receiver, delivery: Delivery
) -> None:
    event_id = await _notify(db)
    await delivery.run()
    logged = await _logged(local_client, event_id)
    assert (logged["status"], logged["attempts"]) == ("skipped", [])
    refused = await local_client.post(f"{LOG}/{event_id}/redeliver", headers=PARTNER)
    assert (refused.status_code, refused.json()["code"]) == (409, "webhook_endpoint_not_set")

    await _set_endpoint(local_client, receiver)
    assert (await local_client.post(f"{LOG}/{event_id}/redeliver", headers=PARTNER)).is_success
    await delivery.run()
    assert [r.verified and r.verified["id"] for r in receiver.received] == [event_id]
    assert (await _logged(local_client, event_id))["status"] == "delivered"


async def test_a_redelivery_while_retrying_replaces_the_pending_retry(
    db: Container,
    clock: MovableClock,
    local_client: httpx.AsyncClient,
    receiver: Receiver,
    delivery: Delivery,
) -> None:
    event_id = await _event_for_a_failing_receiver(db, local_client, receiver, 1)
    await delivery.run()  # 503: retry in a minute
    assert (await local_client.post(f"{LOG}/{event_id}/redeliver", headers=PARTNER)).is_success
    await delivery.run()  # the redelivery, now
    clock.advance(timedelta(hours=1))
    await delivery.run()  # the old retry is dropped, not sent
    assert [r.status for r in receiver.received] == [503, 204]


async def test_a_name_resolving_to_a_loopback_address_is_refused_at_delivery(
    db: Container, local_client: httpx.AsyncClient, receiver: Receiver
) -> None:
    """The endpoint's name passed when it was set; at delivery it resolves to 127.0.0.1,
    and production settings never connect there (DNS rebinding)."""
    await _set_endpoint(local_client, receiver, f"https://localhost:{receiver.port}/hooks")
    event_id = await _notify(db)
    async with httpx.AsyncClient() as http:
        await Delivery(local_hooks(db, allow_local=False), http).run()

    assert receiver.received == []
    logged = await _logged(local_client, event_id)
    (attempt,) = logged["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("address_not_public: localhost resolves to ")
    assert logged["status"] == "pending"  # retried: the name may point elsewhere later
