"""PUT /v1/mailboxes/{id}/auto-renewal: the way out of `auto_renewal_active`."""

from __future__ import annotations

import httpx

from app.container import Container
from tests.api.helpers import codes, field_errors, put_mailbox, quote
from tests.api.test_plans_api import add_promotion
from tests.conftest import CUSTOMER, OTHER_CUSTOMER


async def test_turning_auto_renewal_off_makes_the_mailbox_renewable_by_hand(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PRO", auto_renewal=True)
    assert codes((await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])).json()["items"][0]) == [
        "auto_renewal_active"
    ]

    response = await client.put(
        "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": False}, headers=CUSTOMER
    )

    assert response.status_code == 200
    assert response.json()["auto_renewal"] is False
    assert response.json()["renewable"] is True
    assert (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])).json()["status"] == "ok"


async def test_turning_auto_renewal_on_records_the_frequency(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "PRO")

    response = await client.put(
        "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": True, "years": 3}, headers=CUSTOMER
    )

    body = response.json()
    assert (body["auto_renewal"], body["auto_renewal_years"], body["renewable"]) == (True, 3, False)


async def test_another_account_cannot_touch_the_auto_renewal(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "PRO", auto_renewal=True)

    response = await client.put(
        "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": False}, headers=OTHER_CUSTOMER
    )

    assert response.status_code == 404
    assert response.json()["code"] == "mailbox_not_found"
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert mailbox["auto_renewal"] is True


async def test_auto_renewal_years_outside_one_to_five_is_rejected(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PRO")

    response = await client.put(
        "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": True, "years": 6}, headers=CUSTOMER
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "years"


async def test_automatic_renewal_of_a_plan_on_promotion_takes_two_years_at_most(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-1", "PRO")
    await add_promotion(db, plan="PRO")

    three = await client.put(
        "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": True, "years": 3}, headers=CUSTOMER
    )
    two = await client.put(
        "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": True, "years": 2}, headers=CUSTOMER
    )

    assert three.status_code == 422
    assert field_errors(three.json()) == [("years", "frequency_not_allowed")]
    assert "2" in three.json()["errors"][0]["message"]
    assert (two.status_code, two.json()["auto_renewal_years"]) == (200, 2)


async def test_turning_on_without_years_keeps_a_frequency_the_promotion_allows(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-1", "PRO", auto_renewal_years=5)
    await add_promotion(db, plan="PRO")

    response = await client.put(
        "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": True}, headers=CUSTOMER
    )

    assert response.status_code == 422
    assert field_errors(response.json()) == [("years", "frequency_not_allowed")]
