"""A quote's `status` as GET /v1/quotes/{id} reads it: `expired` once past `valid_until`."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.api.helpers import put_mailbox, quote
from tests.conftest import CUSTOMER, MovableClock


async def test_a_quote_past_valid_until_reads_expired(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD")
    created = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])).json()
    assert created["status"] == "ok"

    clock.advance(timedelta(hours=24, seconds=1))
    response = await client.get(f"/v1/quotes/{created['id']}", headers=CUSTOMER)

    assert response.status_code == 200
    assert response.json()["status"] == "expired"
    assert response.json()["valid_until"] == created["valid_until"]


async def test_a_quote_within_valid_until_still_reads_ok(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD")
    created = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])).json()

    clock.advance(timedelta(hours=23, minutes=59))
    response = await client.get(f"/v1/quotes/{created['id']}", headers=CUSTOMER)

    assert response.json()["status"] == "ok"


async def test_an_expired_blocked_quote_still_reads_blocked(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", auto_renewal=True)
    created = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])).json()
    assert created["status"] == "blocked"

    clock.advance(timedelta(days=2))
    response = await client.get(f"/v1/quotes/{created['id']}", headers=CUSTOMER)

    assert response.json()["status"] == "blocked"
