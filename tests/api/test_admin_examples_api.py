"""The contract's examples of the staff, partner and webhook operations are true.

Each example request is sent, as the document holds it, to the real app on the test
database, and the answer must be the document's example: the same values, except the
ids and timestamps a new run makes (those must still have the example's shape).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.adapters.webhook_signing import generic_signed, stripe_signed
from app.main import create_app
from app.settings import DEV_GENERIC_SECRET, DEV_STRIPE_SECRET, Environment, Settings
from tests.api.order_helpers import ALL_CONSENTS, PERSON, new_key, quote_id_for
from tests.conftest import bearer

DOCUMENT = create_app(
    Settings(
        environment=Environment.TEST,
        database_url="sqlite+aiosqlite://",
        auth_jwt_secret="examples-test-secret-0123456789abcdef",
    )
).openapi()
SCHEMAS = DOCUMENT["components"]["schemas"]
# What differs from one run to the next: new ids, and when things happened.
VOLATILE = {
    "id",
    "quote_id",
    "number",
    "order_id",
    "description",
    "created_at",
    "updated_at",
    "replaced_at",
    "published_at",
    "paid_at",
    "fulfilled_at",
    "commitment_at",
    "processed_at",
    "received_at",
}
# The sandbox's partner and staff member, whom the examples name.
PARTNER = bearer("partner", "ptn-webreseller")
STAFF = bearer("staff", "staff-helpdesk")


def operation(path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = DOCUMENT["paths"][path][method]
    return found


def request_example(path: str, method: str, name: str | None = None) -> Any:
    media = operation(path, method)["requestBody"]["content"]["application/json"]
    if "examples" in media:
        return media["examples"][name or next(iter(media["examples"]))]["value"]
    return SCHEMAS[media["schema"]["$ref"].rsplit("/", 1)[-1]]["examples"][0]


def response_example(path: str, method: str, status: str) -> Any:
    media = operation(path, method)["responses"][status]["content"]["application/json"]
    if "example" in media:
        return media["example"]
    return SCHEMAS[media["schema"]["$ref"].rsplit("/", 1)[-1]]["examples"][0]


def assert_matches(answer: Any, example: Any, where: str = "") -> None:
    """The answer is the example, but for the volatile members: those only match in shape."""
    if isinstance(example, dict):
        assert isinstance(answer, dict), where
        assert set(answer) == set(example), where
        for key, value in example.items():
            if key in VOLATILE:
                assert (answer[key] is None) is (value is None), f"{where}.{key}"
                assert isinstance(answer[key], type(value)), f"{where}.{key}"
            else:
                assert_matches(answer[key], value, f"{where}.{key}")
    elif isinstance(example, list):
        assert isinstance(answer, list), where
        assert len(answer) == len(example), where
        for index, (got, expected) in enumerate(zip(answer, example, strict=True)):
            assert_matches(got, expected, f"{where}[{index}]")
    else:
        assert answer == example, f"{where}: {answer!r} != {example!r}"


async def order_one_mailbox(
    client: httpx.AsyncClient,
    token: dict[str, str],
    method: str,
    mailbox_id: str,
    mirror: dict[str, Any],
) -> httpx.Response:
    """Mirror a mailbox, quote its renewal for `token`, and order it by `method`."""
    await client.put(f"/v1/admin/mailboxes/{mailbox_id}", json=mirror, headers=STAFF)
    quote_id = await quote_id_for(client, token, [{"mailbox_id": mailbox_id}])
    order = await client.post(
        "/v1/orders",
        json={
            "quote_id": quote_id,
            "payment_method": method,
            "consents": ALL_CONSENTS,
            "holder": PERSON,
        },
        headers=new_key(token),
    )
    assert order.status_code == 201, order.text
    return order


async def test_account_examples(client: httpx.AsyncClient) -> None:
    example = request_example("/v1/admin/accounts/{account_id}", "put")
    first = {**example, "holder": {**example["holder"], "address": "Via Roma 1"}}
    first["holder"]["postal_code"] = "00100"
    first["billing"] = None
    url = "/v1/admin/accounts/acc-rossi"
    assert (await client.put(url, json=first, headers=STAFF)).status_code == 201

    replaced = await client.put(url, json=example, headers=STAFF)
    read = await client.get(url, headers=STAFF)

    assert replaced.status_code == 200, replaced.text
    assert_matches(
        replaced.json(), response_example("/v1/admin/accounts/{account_id}", "put", "200")
    )
    assert_matches(read.json(), response_example("/v1/admin/accounts/{account_id}", "get", "200"))


async def test_mailbox_mirror_example(client: httpx.AsyncClient) -> None:
    account = request_example("/v1/admin/accounts/{account_id}", "put")
    await client.put("/v1/admin/accounts/acc-rossi", json=account, headers=STAFF)
    path = "/v1/admin/mailboxes/{mailbox_id}"

    created = await client.put(
        "/v1/admin/mailboxes/mbx-rossi-studio", json=request_example(path, "put"), headers=STAFF
    )

    assert created.status_code == 201, created.text
    assert created.json() == response_example(path, "put", "201")


async def test_partner_examples(client: httpx.AsyncClient) -> None:
    put = await client.put(
        "/v1/admin/partners/ptn-webreseller",
        json=request_example("/v1/admin/partners/{partner_id}", "put"),
        headers=STAFF,
    )
    assert put.status_code == 201, put.text
    # The sandbox seeds it with 500.00; a partner created here starts with none.
    created = response_example("/v1/admin/partners/{partner_id}", "put", "201")
    assert_matches(put.json(), {**created, "credit": {"amount": "0.00", "currency": "EUR"}})

    credit_path = "/v1/admin/partners/{partner_id}/credit"
    top_ups = [{"amount": "500.00"}, request_example(credit_path, "post")]
    answers = [
        await client.post(
            "/v1/admin/partners/ptn-webreseller/credit", json=body, headers=new_key(STAFF)
        )
        for body in top_ups
    ]
    assert_matches(answers[-1].json(), response_example(credit_path, "post", "200"))

    # The partner's statement, after an order of 12.08 paid from its credit.
    await order_one_mailbox(
        client,
        PARTNER,
        "partner_credit",
        "mbx-partner-standard",
        {
            "address": "partner-standard@pec.example.it",
            "plan": "STANDARD",
            "expires_on": "2027-01-05",
            "account_id": "acc-p",
            "partner_id": "ptn-webreseller",
        },
    )
    statement = await client.get("/v1/partner/credit?limit=2", headers=PARTNER)
    example = response_example("/v1/partner/credit", "get", "200")
    # Two pages here (the seeded top-up, this one and the order): the cursor is set.
    assert statement.json()["next_cursor"] is not None
    assert_matches({**statement.json(), "next_cursor": None}, example)


async def test_price_list_examples(client: httpx.AsyncClient) -> None:
    path = "/v1/admin/price-lists/{price_list_id}"
    published = await client.put(
        "/v1/admin/price-lists/2027-h1", json=request_example(path, "put"), headers=STAFF
    )
    listed = await client.get("/v1/admin/price-lists", headers=STAFF)

    assert published.status_code == 201, published.text
    assert_matches(published.json(), response_example(path, "put", "201"))
    example = response_example("/v1/admin/price-lists", "get", "200")
    # The tests' demo list is stored directly, not published by the sandbox.
    unpublished = {"published_by": None, "published_at": None}
    assert {k: listed.json()["items"][1][k] for k in unpublished} == unpublished
    example["items"][1] = {**example["items"][1], **unpublished}
    assert_matches(listed.json(), example)


@pytest.fixture
async def committed_order(client: httpx.AsyncClient) -> dict[str, Any]:
    """A public administration's order of 34.16 (28.00 payable under split payment),
    fulfilled on its payment commitment: the sandbox's story behind the examples."""
    holder = {
        "kind": "public_administration",
        "name": "Comune di Milano",
        "tax_code": "01199250158",
        "email": "protocollo@comune.milano.example.it",
        "address": "Piazza della Scala 2",
        "postal_code": "20121",
        "city": "Milano",
        "province": "MI",
    }
    billing = {
        "public_administration": {
            "office_code": "UF7Q3K",
            "cig": "Z1A2B3C4D5",
            "split_payment": True,
        }
    }
    account = {
        "name": "Comune di Milano",
        "email": holder["email"],
        "holder": holder,
        "billing": billing,
    }
    await client.put("/v1/admin/accounts/acc-comune-milano", json=account, headers=STAFF)
    await client.put(
        "/v1/admin/mailboxes/mbx-comune-protocollo",
        json={
            "address": "protocollo@pec.comune.milano.example.it",
            "plan": "PRO",
            "extra_mailbox_gb": 1,
            "used_mailbox_mb": 1800,
            "used_archive_mb": 2100,
            "expires_on": "2027-01-15",
            "account_id": "acc-comune-milano",
        },
        headers=STAFF,
    )
    customer = bearer("customer", "acc-comune-milano")
    quote_id = await quote_id_for(client, customer, [{"mailbox_id": "mbx-comune-protocollo"}])
    order = await client.post(
        "/v1/orders",
        json={"quote_id": quote_id, "payment_method": "bank_transfer", "consents": ALL_CONSENTS},
        headers=new_key(customer),
    )
    assert order.status_code == 201, order.text
    committed = await client.post(
        f"/v1/admin/orders/{order.json()['id']}/payment-commitment", headers=STAFF
    )
    assert committed.status_code == 200, committed.text
    answer: dict[str, Any] = committed.json()
    return answer


async def test_payment_commitment_example(committed_order: dict[str, Any]) -> None:
    example = response_example("/v1/admin/orders/{order_id}/payment-commitment", "post", "200")

    assert_matches(committed_order, example)
    assert committed_order["payment_instructions"]["description"] == committed_order["number"]


def _generic(event: dict[str, Any], event_id: str) -> tuple[bytes, dict[str, str]]:
    return generic_signed(event, DEV_GENERIC_SECRET, datetime.now(UTC), event_id)


async def test_webhook_and_reconciliation_examples(
    client: httpx.AsyncClient, committed_order: dict[str, Any]
) -> None:
    url = "/v1/webhooks/payments/{provider}"
    generic = request_example(url, "post", "generic")
    generic["data"]["order"] = committed_order["number"]
    # The whole total, where split payment makes the net payable: held for staff.
    too_much = json.loads(json.dumps(generic))
    too_much["data"]["amount"] = committed_order["total"]["amount"]
    body, headers = _generic(too_much, "msg_2Lh9XcQ4bV7nT1pR")
    held = await client.post("/v1/webhooks/payments/generic", content=body, headers=headers)
    body, headers = _generic(generic, "msg_2Lh9XcQ8dF3kW5mN")
    paid = await client.post("/v1/webhooks/payments/generic", content=body, headers=headers)

    assert held.json() == {"received": True, "duplicate": False, "outcome": "reconcile"}
    assert paid.json() == {"received": True, "duplicate": False, "outcome": "record_payment"}
    listed = await client.get("/v1/admin/reconciliation", headers=STAFF)
    page = response_example("/v1/admin/reconciliation", "get", "200")
    assert_matches(
        listed.json(),
        {
            **page,
            "items": [
                {
                    **page["items"][0],
                    "order_ref": committed_order["number"],
                    "event_row_id": listed.json()["items"][0]["event_row_id"],
                }
            ],
        },
    )
    row = listed.json()["items"][0]["event_row_id"]
    retried = await client.post(f"/v1/admin/payment-events/{row}/retry", headers=STAFF)
    example = response_example("/v1/admin/payment-events/{event_row_id}/retry", "post", "200")
    assert_matches(retried.json(), {**example, "id": row})


async def test_stripe_webhook_example_fulfils_a_card_order(client: httpx.AsyncClient) -> None:
    customer = bearer("customer", "acc-1")
    order = await order_one_mailbox(
        client,
        customer,
        "card",
        "mbx-standard",
        {
            "address": "standard@pec.example.it",
            "plan": "STANDARD",
            "expires_on": "2027-01-04",
            "account_id": "acc-1",
        },
    )
    event = request_example("/v1/webhooks/payments/{provider}", "post", "stripe")
    event["data"]["object"]["metadata"]["order_id"] = order.json()["id"]
    now = datetime.now(UTC)
    event["created"] = int(now.timestamp())
    body, headers = stripe_signed(event, DEV_STRIPE_SECRET, now)

    first = await client.post("/v1/webhooks/payments/stripe", content=body, headers=headers)
    again = await client.post("/v1/webhooks/payments/stripe", content=body, headers=headers)

    examples = SCHEMAS["WebhookAck"]["examples"]
    assert [first.json(), again.json()] == examples
    order_now = await client.get(f"/v1/orders/{order.json()['id']}", headers=customer)
    assert order_now.json()["status"] == "FULFILLED"
