"""Payment webhooks under attack and in error: what is rejected, what is kept.

A delivery that can't be verified (bad or missing signature, another secret, a stale
or future timestamp, a tampered body, an unknown provider) is a 4xx problem and NOTHING
is stored. A verified event is always stored; when it can't be applied (wrong amount or
currency, unknown or cancelled order, unreadable body) it is kept for reconciliation and
the order and mailbox are left untouched. Timestamps are the wall clock's: the
providers' libraries verify against it, not against the app's clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import text
from standardwebhooks import Webhook

from app.adapters.webhook_signing import (
    generic_payment,
    generic_signed,
    stripe_payment_succeeded,
    stripe_signed,
)
from app.container import Container
from app.settings import DEV_GENERIC_SECRET, DEV_STRIPE_SECRET
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for
from tests.conftest import CUSTOMER, STAFF
from tests.shared_app import app_for

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's
PROBLEM_JSON = "application/problem+json"
EXPIRES = date(2027, 1, 10)
PAYABLE = "12.08"  # STANDARD, 1 year
PAYABLE_CENTS = 1208
OTHER_GENERIC_SECRET = "whsec_" + base64.b64encode(b"another-generic-secret-0123456789").decode()
OTHER_STRIPE_SECRET = "whsec_another_stripe_secret"

Delivery = tuple[str, bytes | str, dict[str, Any]]  # provider, body, headers


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture
async def lenient_client(db: Container) -> AsyncIterator[httpx.AsyncClient]:
    """Like `client`, but an unhandled error comes back as the 500 a provider would get."""
    transport = httpx.ASGITransport(app=app_for(db), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def order(client: httpx.AsyncClient) -> dict[str, Any]:
    """An order awaiting a bank transfer of 12.08 EUR for mbx-1 (expiring 2027-01-10)."""
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=EXPIRES)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    placed = await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))
    assert placed.status_code == 201, placed.text
    result: dict[str, Any] = placed.json()
    return result


async def scalar(db: Container, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar_one()


async def stored_events(db: Container) -> int:
    found: int = await scalar(db, "SELECT count(*) FROM payment_events")
    return found


async def expiry_of(db: Container, mailbox_id: str = "mbx-1") -> date:
    found: date = await scalar(db, "SELECT expires_on FROM mailboxes WHERE id = :id", id=mailbox_id)
    return found


async def order_status(client: httpx.AsyncClient, order_id: str) -> str:
    response = await client.get(f"/v1/orders/{order_id}", headers=CUSTOMER)
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def reconciliation(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/v1/admin/reconciliation", headers=STAFF)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def deliver(client: httpx.AsyncClient, delivery: Delivery) -> httpx.Response:
    provider, body, headers = delivery
    return await client.post(f"/v1/webhooks/payments/{provider}", content=body, headers=headers)


def assert_problem(response: httpx.Response, statuses: set[int], code: str) -> None:
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["code"] == code
    assert problem["type"] == f"urn:pec-renewal:problem:{code}"
    assert problem["title"]


def generic_event(order: dict[str, Any], /, **overrides: Any) -> dict[str, Any]:
    payment = generic_payment("payment.succeeded", order["number"], PAYABLE, "EUR")
    payment["data"] |= overrides
    return payment


def stripe_event(order: dict[str, Any], /, **overrides: Any) -> dict[str, Any]:
    event = stripe_payment_succeeded(order["id"], PAYABLE_CENTS, "EUR", datetime.now(UTC))
    event["data"]["object"] |= overrides
    return event


def generic(
    order: dict[str, Any], *, at_offset: timedelta = timedelta(0), secret: str = DEV_GENERIC_SECRET
) -> Delivery:
    body, headers = generic_signed(generic_event(order), secret, datetime.now(UTC) + at_offset)
    return "generic", body, headers


def stripe_delivery(
    order: dict[str, Any], *, at_offset: timedelta = timedelta(0), secret: str = DEV_STRIPE_SECRET
) -> Delivery:
    at = datetime.now(UTC) + at_offset
    event = stripe_payment_succeeded(order["id"], PAYABLE_CENTS, "EUR", at)
    body, headers = stripe_signed(event, secret, at)
    return "stripe", body, headers


def with_headers(delivery: Delivery, **changes: str | bytes | None) -> Delivery:
    """The same delivery with headers replaced (`None`: removed); `_` in names is `-`."""
    provider, body, headers = delivery
    changed = {k.replace("_", "-"): v for k, v in changes.items()}
    kept = {k: v for k, v in headers.items() if k.lower() not in {c.lower() for c in changed}}
    return provider, body, kept | {k: v for k, v in changed.items() if v is not None}


def tampered(delivery: Delivery) -> Delivery:
    """Signed, then one byte of the body changed: the amount's last digit."""
    provider, body, headers = delivery
    assert isinstance(body, bytes)
    amount = b'"12.08"' if provider == "generic" else b": 1208,"
    cut = body.index(amount) + len(amount) - 2  # the amount's last digit
    changed = body[:cut] + b"9" + body[cut + 1 :]
    assert len(changed) == len(body)
    assert changed != body
    return provider, changed, headers


def stripe_header(order: dict[str, Any], header: Callable[[str, int], str | bytes]) -> Delivery:
    """A real Stripe body with a Stripe-Signature made by `header(valid_v1, timestamp)`."""
    provider, body, headers = stripe_delivery(order)
    timestamp = int(datetime.now(UTC).timestamp())
    assert isinstance(body, bytes)
    valid = hmac.new(
        DEV_STRIPE_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return with_headers((provider, body, headers), Stripe_Signature=header(valid, timestamp))


# --- rejected deliveries: nothing stored ----------------------------------------------------


REJECTED: list[Any] = [
    # generic (Standard Webhooks)
    pytest.param(
        lambda o: with_headers(
            generic(o), webhook_signature="v1," + base64.b64encode(b"\0" * 32).decode()
        ),
        id="generic-bad-signature",
    ),
    pytest.param(lambda o: generic(o, secret=OTHER_GENERIC_SECRET), id="generic-other-secret"),
    pytest.param(lambda o: generic(o, at_offset=-timedelta(minutes=10)), id="generic-stale"),
    pytest.param(lambda o: generic(o, at_offset=-timedelta(days=30)), id="generic-very-stale"),
    pytest.param(lambda o: generic(o, at_offset=timedelta(minutes=10)), id="generic-future-10m"),
    pytest.param(lambda o: generic(o, at_offset=timedelta(days=1)), id="generic-future-1d"),
    pytest.param(lambda o: tampered(generic(o)), id="generic-tampered-body"),
    pytest.param(
        lambda o: with_headers(generic(o), webhook_id="msg_replayed_under_another_id"),
        id="generic-signature-of-another-id",
    ),
    pytest.param(
        lambda o: with_headers(
            generic(o),
            webhook_timestamp=str(int((datetime.now(UTC) - timedelta(seconds=30)).timestamp())),
        ),
        id="generic-signature-of-another-timestamp",
    ),
    pytest.param(lambda o: with_headers(generic(o), webhook_signature=None), id="generic-no-sig"),
    pytest.param(lambda o: with_headers(generic(o), webhook_id=None), id="generic-no-id"),
    pytest.param(
        lambda o: with_headers(generic(o), webhook_timestamp=None), id="generic-no-timestamp"
    ),
    pytest.param(
        lambda o: with_headers(
            generic(o), webhook_id=None, webhook_timestamp=None, webhook_signature=None
        ),
        id="generic-no-headers",
    ),
    pytest.param(
        lambda o: with_headers(generic(o), webhook_signature="garbage"), id="generic-sig-garbage"
    ),
    pytest.param(
        lambda o: with_headers(generic(o), webhook_signature="v1,%%%not-base64%%%"),
        id="generic-sig-not-base64",
    ),
    pytest.param(lambda o: with_headers(generic(o), webhook_signature=""), id="generic-sig-empty"),
    pytest.param(
        lambda o: with_headers(generic(o), webhook_timestamp="soon"), id="generic-ts-garbage"
    ),
    pytest.param(lambda o: with_headers(generic(o), webhook_timestamp="nan"), id="generic-ts-nan"),
    pytest.param(
        lambda o: with_headers(generic(o), webhook_timestamp="1e309"), id="generic-ts-inf"
    ),
    pytest.param(lambda o: ("generic", *stripe_delivery(o)[1:]), id="generic-with-stripe-headers"),
    # stripe
    pytest.param(
        lambda o: stripe_header(o, lambda _valid, t: f"t={t},v1={'0' * 64}"),
        id="stripe-bad-signature",
    ),
    pytest.param(
        lambda o: stripe_delivery(o, secret=OTHER_STRIPE_SECRET), id="stripe-other-secret"
    ),
    pytest.param(lambda o: stripe_delivery(o, at_offset=-timedelta(minutes=10)), id="stripe-stale"),
    pytest.param(
        lambda o: stripe_delivery(o, at_offset=timedelta(days=1)),
        id="stripe-future-1d",
    ),
    pytest.param(lambda o: tampered(stripe_delivery(o)), id="stripe-tampered-body"),
    pytest.param(
        lambda o: with_headers(stripe_delivery(o), Stripe_Signature=None), id="stripe-no-sig"
    ),
    pytest.param(
        lambda o: with_headers(stripe_delivery(o), Stripe_Signature=""), id="stripe-sig-empty"
    ),
    pytest.param(lambda o: stripe_header(o, lambda _valid, _t: "garbage"), id="stripe-sig-garbage"),
    pytest.param(
        lambda o: stripe_header(o, lambda valid, _t: f"t=abc,v1={valid}"), id="stripe-sig-t-abc"
    ),
    pytest.param(lambda o: stripe_header(o, lambda _valid, _t: "t=,v1="), id="stripe-sig-empty-kv"),
    pytest.param(lambda o: stripe_header(o, lambda valid, _t: f"v1={valid}"), id="stripe-sig-no-t"),
    pytest.param(lambda o: stripe_header(o, lambda _valid, t: f"t={t}"), id="stripe-sig-no-v1"),
    pytest.param(
        lambda o: stripe_header(o, lambda valid, t: f"t={t},v0={valid}"),
        id="stripe-sig-other-scheme",
    ),
    pytest.param(
        lambda o: stripe_header(o, lambda valid, t: f"t={t + 1},v1={valid}"),
        id="stripe-sig-other-timestamp",
    ),
    pytest.param(
        lambda o: stripe_header(o, lambda valid, t: f"t={t},v1={valid[:-1]}"),
        id="stripe-sig-truncated",
    ),
    pytest.param(
        lambda o: stripe_header(o, lambda valid, t: f"t={t},v1={valid.upper()}"),
        id="stripe-sig-uppercase",
    ),
    pytest.param(
        lambda o: stripe_header(o, lambda _valid, t: f"t={t},v1={'é' * 64}".encode("latin-1")),
        id="stripe-sig-non-ascii",
    ),
    pytest.param(
        lambda o: stripe_header(o, lambda _valid, t: ",".join([f"t={t}"] * 500) + ",v1=0"),
        id="stripe-sig-long",
    ),
    pytest.param(
        lambda o: ("stripe", *generic(o)[1:]),
        id="stripe-with-generic-headers",
    ),
]


@pytest.mark.parametrize("make", REJECTED)
async def test_an_unverifiable_delivery_is_rejected_and_nothing_is_stored(
    lenient_client: httpx.AsyncClient,
    db: Container,
    order: dict[str, Any],
    make: Callable[[dict[str, Any]], Delivery],
) -> None:
    response = await deliver(lenient_client, make(order))

    assert_problem(response, {400, 401}, "invalid_signature")
    assert await stored_events(db) == 0
    assert await order_status(lenient_client, order["id"]) == "AWAITING_PAYMENT"
    assert await expiry_of(db) == EXPIRES
    assert await reconciliation(lenient_client) == []


@pytest.mark.parametrize("provider", ["paypal", "Stripe", "GENERIC", "stripe.json", "x" * 100])
async def test_an_unknown_provider_is_a_404_and_nothing_is_stored(
    lenient_client: httpx.AsyncClient, db: Container, order: dict[str, Any], provider: str
) -> None:
    _, body, headers = generic(order)

    response = await lenient_client.post(
        f"/v1/webhooks/payments/{provider}", content=body, headers=headers
    )

    assert_problem(response, {404}, "unknown_provider")
    assert await stored_events(db) == 0
    assert await order_status(lenient_client, order["id"]) == "AWAITING_PAYMENT"


async def test_a_correct_delivery_after_the_rejected_ones_still_works(
    client: httpx.AsyncClient, db: Container, order: dict[str, Any]
) -> None:
    """The control: what the rejected deliveries were mangled from is accepted."""
    for delivery in (generic(order), stripe_delivery(order)):
        response = await deliver(client, delivery)
        assert response.status_code == 200, response.text
    assert await stored_events(db) == 2
    assert await order_status(client, order["id"]) == "FULFILLED"
    assert await expiry_of(db) == date(2028, 1, 10)


# --- verified but not applicable: stored, reconciled, nothing applied -----------------------


def signed_generic(payment: dict[str, Any], event_id: str) -> Delivery:
    body, headers = generic_signed(payment, DEV_GENERIC_SECRET, datetime.now(UTC), event_id)
    return "generic", body, headers


def signed_stripe(event: dict[str, Any]) -> Delivery:
    body, headers = stripe_signed(event, DEV_STRIPE_SECRET, datetime.now(UTC))
    return "stripe", body, headers


MISMATCHES: list[Any] = [
    pytest.param(
        lambda o: signed_generic(generic_event(o, amount="12.07"), "evt-1"),
        "amount_mismatch",
        True,
        id="generic-amount-short",
    ),
    pytest.param(
        lambda o: signed_generic(generic_event(o, amount="120.80"), "evt-1"),
        "amount_mismatch",
        True,
        id="generic-amount-more",
    ),
    pytest.param(
        lambda o: signed_generic(generic_event(o, amount="-12.08"), "evt-1"),
        "invalid_amount",
        True,
        id="generic-amount-negative",
    ),
    pytest.param(
        lambda o: signed_generic(generic_event(o, currency="USD"), "evt-1"),
        "currency_mismatch",
        True,
        id="generic-currency",
    ),
    pytest.param(
        lambda o: signed_generic(generic_event(o, order="ord_does_not_exist"), "evt-1"),
        "unknown_order",
        False,
        id="generic-unknown-order-id",
    ),
    pytest.param(
        lambda o: signed_generic(generic_event(o, order="PEC-2026-9999999"), "evt-1"),
        "unknown_order",
        False,
        id="generic-unknown-order-number",
    ),
    pytest.param(
        lambda o: signed_generic(generic_event(o, order=None), "evt-1"),
        "unknown_order",
        False,
        id="generic-no-order",
    ),
    pytest.param(
        lambda o: signed_stripe(stripe_event(o, amount_received=PAYABLE_CENTS - 1)),
        "amount_mismatch",
        True,
        id="stripe-amount",
    ),
    pytest.param(
        lambda o: signed_stripe(stripe_event(o, currency="usd")),
        "currency_mismatch",
        True,
        id="stripe-currency",
    ),
    pytest.param(
        lambda o: signed_stripe(stripe_event(o, metadata={"order_id": "ord_does_not_exist"})),
        "unknown_order",
        False,
        id="stripe-unknown-order",
    ),
    pytest.param(
        lambda o: signed_stripe(stripe_event(o, metadata={})),
        "unknown_order",
        False,
        id="stripe-no-order",
    ),
]


@pytest.mark.parametrize(("make", "reason", "names_the_order"), MISMATCHES)
async def test_a_verified_payment_that_does_not_match_is_kept_for_reconciliation(
    lenient_client: httpx.AsyncClient,
    db: Container,
    order: dict[str, Any],
    make: Callable[[dict[str, Any]], Delivery],
    reason: str,
    names_the_order: bool,
) -> None:
    response = await deliver(lenient_client, make(order))

    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "duplicate": False, "outcome": "reconcile"}
    assert await stored_events(db) == 1
    assert await order_status(lenient_client, order["id"]) == "AWAITING_PAYMENT"
    assert await expiry_of(db) == EXPIRES
    assert await scalar(db, "SELECT count(*) FROM outbox WHERE kind = 'mail_platform'") == 0
    (flagged,) = await reconciliation(lenient_client)
    assert flagged["reason"] == reason
    assert flagged["kind"] == "payment.succeeded"
    assert flagged["order_id"] == (order["id"] if names_the_order else None)
    # the order can still be paid properly afterwards
    paid = await deliver(lenient_client, generic(order))
    assert paid.json()["outcome"] == "fulfil"


@pytest.mark.parametrize("provider", ["generic", "stripe"])
async def test_a_payment_for_a_cancelled_order_is_kept_and_never_applied(
    client: httpx.AsyncClient, db: Container, order: dict[str, Any], provider: str
) -> None:
    cancelled = await client.post(f"/v1/orders/{order['id']}/cancel", headers=CUSTOMER)
    assert cancelled.status_code == 200, cancelled.text

    response = await deliver(
        client, generic(order) if provider == "generic" else stripe_delivery(order)
    )

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "reconcile"
    assert await stored_events(db) == 1
    assert await order_status(client, order["id"]) == "CANCELLED"
    assert await expiry_of(db) == EXPIRES
    (flagged,) = await reconciliation(client)
    assert (flagged["reason"], flagged["order_id"]) == ("order_closed", order["id"])
    assert flagged["amount"] == {"amount": PAYABLE, "currency": "EUR"}


async def test_a_refund_for_a_cancelled_order_is_kept_for_reconciliation(
    client: httpx.AsyncClient, db: Container, order: dict[str, Any]
) -> None:
    await client.post(f"/v1/orders/{order['id']}/cancel", headers=CUSTOMER)
    refund = generic_payment("payment.refunded", order["number"], PAYABLE, "EUR")

    response = await deliver(client, signed_generic(refund, "evt-refund"))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "reconcile"
    assert await order_status(client, order["id"]) == "CANCELLED"
    (flagged,) = await reconciliation(client)
    assert flagged["reason"] == "refund_for_closed_order"


# --- verified but unreadable: stored, reconciled, never a 500 -------------------------------


def generic_raw(body: bytes, event_id: str = "evt-raw") -> Delivery:
    at = datetime.now(UTC)
    signature = Webhook(DEV_GENERIC_SECRET).sign(event_id, at, body.decode())
    headers = {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }
    return "generic", body, headers


def stripe_raw(body: bytes) -> Delivery:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), DEV_STRIPE_SECRET)
    return "stripe", body, {"Stripe-Signature": header, "Content-Type": "application/json"}


def stripe_json(event: dict[str, Any]) -> Delivery:
    return stripe_raw(json.dumps(event).encode())


def nested(event: dict[str, Any], depth: int) -> bytes:
    """`event` as JSON, with one more field of `depth` arrays in one another."""
    return json.dumps(event).encode()[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"


UNREADABLE: list[Any] = [
    pytest.param(lambda _o: generic_raw(b"this is not json"), id="generic-not-json"),
    pytest.param(lambda _o: generic_raw(b""), id="generic-empty"),
    pytest.param(lambda _o: generic_raw(b"[1, 2, 3]"), id="generic-json-list"),
    pytest.param(lambda _o: generic_raw(b'"payment"'), id="generic-json-string"),
    pytest.param(lambda _o: generic_raw(b'{"type": "payment.succeeded"}'), id="generic-no-data"),
    pytest.param(
        lambda o: generic_raw(json.dumps(generic_event(o) | {"type": "payment.disputed"}).encode()),
        id="generic-unknown-type",
    ),
    pytest.param(
        lambda o: generic_raw(json.dumps(generic_event(o, amount="12.085")).encode()),
        id="generic-three-decimals",
    ),
    pytest.param(
        lambda o: generic_raw(json.dumps(generic_event(o, amount="NaN")).encode()),
        id="generic-amount-nan",
    ),
    pytest.param(
        lambda o: generic_raw(json.dumps(generic_event(o, amount="1e999999999")).encode()),
        id="generic-amount-exponent",
    ),
    pytest.param(
        lambda o: generic_raw(json.dumps(generic_event(o, amount="twelve")).encode()),
        id="generic-amount-words",
    ),
    pytest.param(
        lambda o: generic_raw(json.dumps(generic_event(o, amount=None)).encode()),
        id="generic-amount-null",
    ),
    # Deeper than a payload can be stored (orjson: 254 levels), then than json.loads goes.
    pytest.param(lambda o: generic_raw(nested(generic_event(o), 300)), id="generic-nested-300"),
    pytest.param(lambda o: generic_raw(nested(generic_event(o), 2000)), id="generic-nested-2000"),
    pytest.param(lambda o: stripe_raw(nested(stripe_event(o), 300)), id="stripe-nested-300"),
    pytest.param(lambda o: stripe_raw(nested(stripe_event(o), 2000)), id="stripe-nested-2000"),
    pytest.param(lambda _o: stripe_raw(b"this is not json"), id="stripe-not-json"),
    pytest.param(lambda _o: stripe_raw(b"[1, 2, 3]"), id="stripe-json-list"),
    pytest.param(lambda _o: stripe_raw(b'{"type": "payment_intent.succeeded"}'), id="stripe-no-id"),
    pytest.param(
        lambda _o: stripe_json({"id": "evt_x", "type": "payment_intent.succeeded"}),
        id="stripe-no-data",
    ),
    pytest.param(
        lambda o: stripe_json(stripe_event(o, amount_received="lots")), id="stripe-amount-words"
    ),
    pytest.param(
        lambda o: stripe_json(stripe_event(o) | {"created": 10**20}),
        id="stripe-created-huge",
    ),
    pytest.param(
        lambda o: stripe_json(stripe_event(o) | {"data": {"object": [1, 2]}}),
        id="stripe-object-list",
    ),
    pytest.param(
        lambda o: stripe_json(stripe_event(o, metadata=["order_id", o["id"]])),
        id="stripe-metadata-list",
    ),
]


@pytest.mark.parametrize("make", UNREADABLE)
async def test_a_verified_but_unreadable_event_is_kept_for_reconciliation(
    lenient_client: httpx.AsyncClient,
    db: Container,
    order: dict[str, Any],
    make: Callable[[dict[str, Any]], Delivery],
) -> None:
    response = await deliver(lenient_client, make(order))

    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "duplicate": False, "outcome": "reconcile"}
    assert await stored_events(db) == 1
    assert await order_status(lenient_client, order["id"]) == "AWAITING_PAYMENT"
    assert await expiry_of(db) == EXPIRES
    (flagged,) = await reconciliation(lenient_client)
    assert flagged["reason"]
    assert flagged["order_id"] is None


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda o: generic_raw(json.dumps(generic_event(o, amount="99999999999.00")).encode()),
            id="generic-amount-huge",
        ),
        pytest.param(
            lambda o: stripe_json(stripe_event(o, amount_received=10**12)),
            id="stripe-amount-huge",
        ),
    ],
)
async def test_a_verified_absurd_amount_is_stored_and_reconciled_against_its_order(
    client: httpx.AsyncClient,
    db: Container,
    order: dict[str, Any],
    make: Callable[[dict[str, Any]], Delivery],
) -> None:
    response = await deliver(client, make(order))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "reconcile"
    assert await stored_events(db) == 1
    assert await order_status(client, order["id"]) == "AWAITING_PAYMENT"
    (flagged,) = await reconciliation(client)
    assert (flagged["order_id"], flagged["reason"]) == (order["id"], "amount_mismatch")


async def test_a_verified_event_of_another_kind_is_stored_but_not_applied(
    client: httpx.AsyncClient, db: Container, order: dict[str, Any]
) -> None:
    event = stripe_event(order) | {"type": "customer.created"}

    response = await deliver(client, stripe_json(event))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "ignored"
    assert await stored_events(db) == 1
    assert await order_status(client, order["id"]) == "AWAITING_PAYMENT"
    assert await expiry_of(db) == EXPIRES


# --- duplicates -----------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["generic", "stripe"])
async def test_a_duplicate_delivery_is_a_200_that_does_nothing(
    client: httpx.AsyncClient, db: Container, order: dict[str, Any], provider: str
) -> None:
    delivery = generic(order) if provider == "generic" else stripe_delivery(order)

    first = await deliver(client, delivery)
    second = await deliver(client, delivery)

    assert first.status_code == second.status_code == 200, second.text
    assert first.json() == {"received": True, "duplicate": False, "outcome": "fulfil"}
    assert second.json() == {"received": True, "duplicate": True, "outcome": None}
    assert await stored_events(db) == 1
    assert await expiry_of(db) == date(2028, 1, 10)


async def test_a_redelivery_resigned_later_is_still_a_duplicate(
    client: httpx.AsyncClient, db: Container, order: dict[str, Any]
) -> None:
    """A provider's retry carries the same id with a fresh timestamp and signature."""
    payment = generic_event(order)
    first = await deliver(client, signed_generic(payment, "evt-retried"))
    body, headers = generic_signed(
        payment, DEV_GENERIC_SECRET, datetime.now(UTC) + timedelta(seconds=30), "evt-retried"
    )

    retry = await deliver(client, ("generic", body, headers))

    assert first.json()["outcome"] == "fulfil"
    assert retry.status_code == 200, retry.text
    assert retry.json()["duplicate"] is True
    assert await stored_events(db) == 1
    assert await expiry_of(db) == date(2028, 1, 10)


async def test_a_duplicate_of_a_reconciled_event_is_not_listed_twice(
    client: httpx.AsyncClient, db: Container, order: dict[str, Any]
) -> None:
    delivery = signed_generic(generic_event(order, amount="1.00"), "evt-short")

    first = await deliver(client, delivery)
    second = await deliver(client, delivery)

    assert first.json()["outcome"] == "reconcile"
    assert second.json() == {"received": True, "duplicate": True, "outcome": None}
    assert await stored_events(db) == 1
    assert len(await reconciliation(client)) == 1
