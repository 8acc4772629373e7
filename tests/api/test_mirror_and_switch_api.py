"""The mailbox mirror and the auto-renewal switch keep what belongs to this service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from app.container import Container
from tests.api.helpers import TODAY, put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for, send_stripe_payment
from tests.conftest import CUSTOMER, MovableClock


async def test_a_mirror_update_without_auto_renewal_keeps_the_customers_setting(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PRO", auto_renewal=True, auto_renewal_years=3)

    updated = await put_mailbox(client, "mbx-1", "PRO", used_mailbox_mb=700)

    assert (updated["used_mailbox_mb"], updated["auto_renewal"], updated["auto_renewal_years"]) == (
        700,
        True,
        3,
    )


async def test_a_stale_platform_record_never_undoes_a_paid_renewal(
    client: httpx.AsyncClient,
) -> None:
    before = TODAY + timedelta(days=20)
    await put_mailbox(client, "mbx-1", "PRO", expires_on=before)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    order = (
        await client.post(
            "/v1/orders", json=order_body(quote_id, "card"), headers=new_key(CUSTOMER)
        )
    ).json()
    await send_stripe_payment(client, order["id"], 3050, datetime.now(UTC))

    # The platform hasn't applied the renewal yet and reports usage with the old expiry.
    stale = await put_mailbox(client, "mbx-1", "PRO", expires_on=before, used_mailbox_mb=900)

    assert stale["expires_on"] == before.replace(year=before.year + 1).isoformat()
    assert stale["used_mailbox_mb"] == 900


async def test_automatic_renewal_cannot_be_switched_on_for_a_deleted_mailbox(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=TODAY - timedelta(days=120))

    response = await client.put(
        "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": True}, headers=CUSTOMER
    )

    assert response.status_code == 409
    assert response.json()["code"] == "mailbox_deleted"


async def test_switching_automatic_renewal_off_keeps_its_frequency(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PRO", auto_renewal=True, auto_renewal_years=4)

    off = await client.put(
        "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": False}, headers=CUSTOMER
    )

    assert (off.json()["auto_renewal"], off.json()["auto_renewal_years"]) == (False, 4)


async def test_a_promotion_starting_at_italian_midnight_is_on_the_price_list_at_once(
    client: httpx.AsyncClient, db: Container, clock: MovableClock
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO promotions (price_list_id, plan_code, yearly_price_cents, "
                "valid_from, valid_until, max_years) VALUES ('2026-demo', 'PRO', 1900, :a, :b, 2)"
            ),
            {"a": tomorrow, "b": tomorrow + timedelta(days=30)},
        )
    today = (await client.get("/v1/plans")).json()  # cached for an hour in the tests

    clock.now = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 0, 5, tzinfo=UTC) - timedelta(
        hours=1
    )  # 00:05 in Rome (UTC+1)
    midnight = (await client.get("/v1/plans")).json()

    assert today["promotions"] == []
    assert [p["plan"] for p in midnight["promotions"]] == ["PRO"]


async def test_dead_database_connections_are_dropped_not_reused(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-1")
    body = {"years": 1, "items": [{"mailbox_id": "mbx-1"}]}
    assert (await client.post("/v1/quotes", json=body, headers=CUSTOMER)).status_code == 201
    async with db.engine.connect() as admin:  # as a failover or a pooler timeout would
        await admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )

    try:
        statuses = [
            (await client.post("/v1/quotes", json=body, headers=CUSTOMER)).status_code
            for _ in range(db.settings.database_pool_size + 2)
        ]
    finally:
        await db.engine.dispose()  # the next tests get fresh connections, not killed ones

    assert set(statuses) <= {201, 503}  # never a 500
    assert statuses[-1] == 201
