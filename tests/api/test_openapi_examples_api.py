"""The contract's examples are true: the sandbox's world, asked the example requests on
the examples' day, answers exactly the example responses (ids and numbers aside)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from app.container import Container
from app.main import create_app
from app.routers.v1.cursors import encode_mailbox_cursor
from app.sandbox.seed import seed_demo_data
from tests.conftest import STAFF, START, bearer

ROSSI = bearer("customer", "acc-rossi")


@pytest.fixture
async def sandbox(empty_db: Container) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """The sandbox's demo data on START (2026-11-25), the day the examples are written for."""
    await seed_demo_data(empty_db.sessionmaker, START)
    app = create_app(container=empty_db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http, app.openapi()


def _schema_example(document: dict[str, Any], name: str) -> Any:
    return document["components"]["schemas"][name]["examples"][0]


def _operation_example(document: dict[str, Any], path: str, method: str) -> Any:
    return document["paths"][path][method]["responses"]["200"]["content"]["application/json"][
        "example"
    ]


def _as_in_example(answer: httpx.Response, renames: dict[str, str]) -> Any:
    """The answer with its generated ids and numbers replaced by the example's."""
    assert answer.status_code < 300, answer.text
    text = answer.text
    for real, example in renames.items():
        text = text.replace(real, example)
    return json.loads(text)


async def test_the_quote_and_order_examples_are_what_the_sandbox_answers(
    sandbox: tuple[httpx.AsyncClient, dict[str, Any]],
) -> None:
    client, document = sandbox
    quote_out = _schema_example(document, "QuoteOut")
    order_out = _schema_example(document, "OrderOut")

    quote = await client.post(
        "/v1/quotes", json=_schema_example(document, "QuoteIn"), headers=ROSSI
    )
    quote_id = quote.json()["id"]
    order_in = {**_schema_example(document, "OrderIn"), "quote_id": quote_id}
    order = await client.post(
        "/v1/orders", json=order_in, headers={**ROSSI, "Idempotency-Key": "example-order"}
    )
    body = order.json()
    renames = {
        quote_id: quote_out["id"],
        body["id"]: order_out["id"],
        body["number"]: order_out["number"],
    }

    assert _as_in_example(quote, renames) == quote_out
    assert _as_in_example(order, renames) == order_out
    listed = await client.get("/v1/orders", headers=ROSSI)
    assert _as_in_example(listed, renames) == _schema_example(document, "OrderPageOut")
    cancelled = await client.post(f"/v1/orders/{body['id']}/cancel", headers=ROSSI)
    assert _as_in_example(cancelled, renames) == _operation_example(
        document, "/v1/orders/{order_id}/cancel", "post"
    )


async def test_the_mailbox_examples_are_what_the_sandbox_answers(
    sandbox: tuple[httpx.AsyncClient, dict[str, Any]],
) -> None:
    client, document = sandbox
    mailbox = _schema_example(document, "MailboxOut")

    mirrored = await client.put(
        "/v1/admin/mailboxes/mbx-premium",
        json=_schema_example(document, "MailboxMirrorIn"),
        headers=STAFF,
    )
    shown = await client.get("/v1/mailboxes/mbx-premium", headers=ROSSI)
    after_standard = encode_mailbox_cursor((date(2027, 1, 4), "mbx-standard"))
    page = await client.get(
        "/v1/mailboxes",
        params={"status": "ACTIVE", "limit": 1, "cursor": after_standard},
        headers=ROSSI,
    )
    automatic = await client.put(
        "/v1/mailboxes/mbx-premium/auto-renewal",
        json=_schema_example(document, "AutoRenewalIn"),
        headers=ROSSI,
    )

    assert _as_in_example(mirrored, {}) == mailbox
    assert _as_in_example(shown, {}) == mailbox
    assert _as_in_example(page, {}) == _schema_example(document, "MailboxPageOut")
    assert _as_in_example(automatic, {}) == _operation_example(
        document, "/v1/mailboxes/{mailbox_id}/auto-renewal", "put"
    )


async def test_the_price_list_and_health_examples_are_what_the_sandbox_answers(
    sandbox: tuple[httpx.AsyncClient, dict[str, Any]],
) -> None:
    client, document = sandbox

    plans = await client.get("/v1/plans")
    ready = await client.get("/readyz")

    assert _as_in_example(plans, {}) == _schema_example(document, "PriceListOut")
    assert _as_in_example(ready, {}) == _schema_example(document, "HealthOut")
