"""A pending order's id is shown only to whoever can open that order (its owner, staff).

A partner managing a customer's mailbox learns that an unpaid order blocks it, never the
id of an order it would get a 404 opening (api.md: never reveal what the caller can't open).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.domain.access import Role
from tests.api.helpers import assert_problem, put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for
from tests.conftest import PARTNER, STAFF, bearer

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

OWNER = bearer(Role.CUSTOMER, "acc-p")


@pytest.fixture
async def customer_order(client: httpx.AsyncClient) -> str:
    """The customer of a partner-managed mailbox orders its renewal, and doesn't pay."""
    await put_mailbox(client, "mbx-p", "STANDARD", account_id="acc-p", partner_id="ptn-1")
    quote_id = await quote_id_for(client, OWNER, [{"mailbox_id": "mbx-p"}])
    placed = await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(OWNER))
    assert placed.status_code == 201, placed.text
    order_id: str = placed.json()["id"]
    return order_id


def _pending(issues: list[dict[str, Any]]) -> dict[str, Any]:
    (issue,) = [i for i in issues if i["code"] == "pending_order_exists"]
    return issue


async def _blocker(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    mailbox = await client.get("/v1/mailboxes/mbx-p", headers=headers)
    assert mailbox.status_code == 200, mailbox.text
    return _pending(mailbox.json()["renewal_blockers"])


async def test_the_partner_sees_the_blocker_without_the_order_id(
    client: httpx.AsyncClient, customer_order: str
) -> None:
    blocker = await _blocker(client, PARTNER)

    assert blocker.get("order_id") is None
    assert customer_order not in str(blocker)
    opened = await client.get(f"/v1/orders/{customer_order}", headers=PARTNER)
    assert opened.status_code == 404


@pytest.mark.parametrize("headers", [OWNER, STAFF], ids=["owner", "staff"])
async def test_who_can_open_the_order_sees_its_id(
    client: httpx.AsyncClient, customer_order: str, headers: dict[str, str]
) -> None:
    assert (await _blocker(client, headers))["order_id"] == customer_order


async def test_a_partner_quote_hides_the_order_id(
    client: httpx.AsyncClient, customer_order: str
) -> None:
    quoted = await client.post(
        "/v1/quotes", json={"years": 1, "items": [{"mailbox_id": "mbx-p"}]}, headers=PARTNER
    )

    assert quoted.status_code == 201, quoted.text
    issue = _pending(quoted.json()["items"][0]["issues"])
    assert issue.get("order_id") is None
    assert customer_order not in quoted.text


async def test_the_owner_quote_shows_the_order_id(
    client: httpx.AsyncClient, customer_order: str
) -> None:
    quoted = await client.post(
        "/v1/quotes", json={"years": 1, "items": [{"mailbox_id": "mbx-p"}]}, headers=OWNER
    )

    assert _pending(quoted.json()["items"][0]["issues"])["order_id"] == customer_order


async def test_a_partner_order_conflict_hides_the_order_id(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-p", "STANDARD", account_id="acc-p", partner_id="ptn-1")
    partner_quote = await quote_id_for(client, PARTNER, [{"mailbox_id": "mbx-p"}])
    owner_quote = await quote_id_for(client, OWNER, [{"mailbox_id": "mbx-p"}])
    owners = await client.post("/v1/orders", json=order_body(owner_quote), headers=new_key(OWNER))
    assert owners.status_code == 201, owners.text

    refused = await client.post(
        "/v1/orders",
        json=order_body(partner_quote, "partner_credit"),
        headers=new_key(PARTNER),
    )

    problem = assert_problem(refused, 409, "pending_order_exists")
    assert problem.get("order_id") is None
    assert owners.json()["id"] not in refused.text
    assert problem["mailbox_id"] == "mbx-p"
