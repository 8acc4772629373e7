"""A quote's `status` as GET /v1/quotes/{id} reads it: `expired` once past `valid_until`."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.api.helpers import put_mailbox, quote
from tests.conftest import CUSTOMER, MovableClock

pytestmark = pytest.mark.both_quote_stores  # asyncpg and SQLAlchemy


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


async def test_a_whole_number_sent_as_1_0_is_an_integer(client: httpx.AsyncClient) -> None:
    # JSON Schema's `integer` includes 1.0: what the contract allows, the server accepts.
    await put_mailbox(client, "mbx-1", "STANDARD")

    response = await quote(
        client, CUSTOMER, [{"mailbox_id": "mbx-1", "extra_mailbox_gb": 2.0}], years=1.0
    )

    assert response.status_code == 201, response.text
    assert response.json()["years"] == 1
    assert response.json()["items"][0]["extra_mailbox_gb"] == 2
