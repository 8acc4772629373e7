"""The worked examples of domain.md, through POST /v1/quotes on the real database."""

from __future__ import annotations

import httpx
import pytest

from tests.api.helpers import codes, put_mailbox, quote, warning_codes
from tests.conftest import CUSTOMER

pytestmark = pytest.mark.both_quote_stores  # asyncpg and SQLAlchemy


async def test_standard_renewal_for_one_year_costs_12_08(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", used_mailbox_mb=300)

    response = await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "ok"
    assert body["net"] == {"amount": "9.90", "currency": "EUR"}
    assert body["vat"]["amount"] == "2.18"
    assert body["total"]["amount"] == "12.08"
    assert response.headers["location"] == f"/v1/quotes/{body['id']}"


async def test_pro_for_three_years_keeping_two_extra_gb_costs_113_46(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PRO", extra_mailbox_gb=2, used_mailbox_mb=2500)

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1"}], years=3)).json()

    assert (body["net"]["amount"], body["vat"]["amount"], body["total"]["amount"]) == (
        "93.00",
        "20.46",
        "113.46",
    )
    assert [
        (line["kind"], line["quantity"], line["amount"]["amount"]) for line in body["lines"]
    ] == [
        ("plan", 3, "75.00"),
        ("extra_mailbox_space", 6, "18.00"),
    ]


async def test_premium_to_standard_needs_one_gb_and_warns_archive_deletion(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PREMIUM", used_mailbox_mb=1500, used_archive_mb=5000)

    blocked = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "STANDARD"}])).json()
    fixed = (
        await quote(
            client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "STANDARD", "extra_mailbox_gb": 1}]
        )
    ).json()

    item = blocked["items"][0]
    assert blocked["status"] == "blocked"
    assert codes(item) == ["insufficient_mailbox_space"]
    assert item["issues"][0]["smallest_extra_mailbox_gb"] == 1
    assert "archive_will_be_deleted" in warning_codes(item)
    assert item["warnings"][0]["archived_mb"] == 5000
    assert fixed["status"] == "ok"
    assert fixed["net"]["amount"] == "12.90"
    assert fixed["requires_archive_acknowledgement"] is True


async def test_pro_to_standard_with_2400_mb_used_must_free_352_mb(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PRO", used_mailbox_mb=2400)

    body = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "STANDARD"}])).json()

    item = body["items"][0]
    assert codes(item) == ["free_space_required"]
    assert item["issues"][0]["mb_to_free"] == 352


async def test_quote_is_read_back_identical_and_in_english_on_request(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "PRO", used_mailbox_mb=2400)
    created = (await quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "STANDARD"}])).json()

    italian = await client.get(f"/v1/quotes/{created['id']}", headers=CUSTOMER)
    english = await client.get(
        f"/v1/quotes/{created['id']}", headers={**CUSTOMER, "Accept-Language": "en-GB,en;q=0.9"}
    )

    assert italian.json() == created
    assert "elimina almeno 352 MB" in italian.json()["items"][0]["issues"][0]["message"]
    assert "delete at least 352 MB" in english.json()["items"][0]["issues"][0]["message"]
