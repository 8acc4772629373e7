"""Every verified payment event is stored, whatever it holds, and only an exact match pays.

An amount too large for a 64-bit column is stored (amount null, the raw value in the
payload) and reconciled; a currency is compared whole, as an ISO 4217 code, never cut.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from app.container import Container
from tests.api.test_webhook_security_api import (
    EXPIRES,
    PAYABLE_CENTS,
    Delivery,
    deliver,
    expiry_of,
    generic_event,
    generic_raw,
    order_status,
    reconciliation,
    scalar,
    signed_generic,
    signed_stripe,
    stripe_event,
)

# order is a fixture of test_webhook_security_api: an order of 12.08 EUR awaiting payment
from tests.api.test_webhook_security_api import order as order

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

HUGE_AMOUNTS: list[Any] = [
    pytest.param(
        lambda o: signed_generic(generic_event(o, amount="100000000000000000.00"), "evt-huge"),
        "100000000000000000.00",
        id="generic-10e17-euros",
    ),
    pytest.param(
        lambda o: signed_stripe(stripe_event(o, amount_received=10**19)),
        10**19,
        id="stripe-10e19-cents",
    ),
]


@pytest.mark.parametrize(("make", "raw"), HUGE_AMOUNTS)
async def test_a_verified_amount_too_large_for_64_bits_is_stored_and_reconciled(
    client: httpx.AsyncClient,
    db: Container,
    order: dict[str, Any],
    make: Any,
    raw: object,
) -> None:
    delivery: Delivery = make(order)

    response = await deliver(client, delivery)

    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "duplicate": False, "outcome": "reconcile"}
    assert await scalar(db, "SELECT count(*) FROM payment_events") == 1
    assert await scalar(db, "SELECT amount_cents FROM payment_events") is None
    assert str(raw) in await scalar(db, "SELECT payload::text FROM payment_events")
    assert await order_status(client, order["id"]) == "AWAITING_PAYMENT"
    assert await expiry_of(db) == EXPIRES
    (flagged,) = await reconciliation(client)
    assert (flagged["reason"], flagged["order_id"]) == ("amount_out_of_range", order["id"])
    assert flagged["amount"] is None
    # a redelivery is a duplicate, not a second row nor a 5xx
    again = await deliver(client, delivery)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True


ODD_CURRENCIES: list[Any] = [
    pytest.param(
        lambda o: signed_generic(generic_event(o, currency="EURO"), "evt-euro"), "EURO", id="EURO"
    ),
    pytest.param(lambda o: signed_stripe(stripe_event(o, currency="eurx")), "EURX", id="eurx"),
    pytest.param(
        lambda o: signed_generic(generic_event(o, currency="EUR " * 10), "evt-long"),
        None,
        id="forty-characters",
    ),
    pytest.param(
        lambda o: signed_generic(generic_event(o, currency="EU\u0000R"), "evt-nul"),
        None,
        id="nul-character",
    ),
]


@pytest.mark.parametrize(("make", "stored"), ODD_CURRENCIES)
async def test_a_currency_that_only_starts_like_the_orders_does_not_pay_it(
    client: httpx.AsyncClient,
    db: Container,
    order: dict[str, Any],
    make: Any,
    stored: str | None,
) -> None:
    response = await deliver(client, make(order))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "reconcile"
    assert await order_status(client, order["id"]) == "AWAITING_PAYMENT"
    assert await expiry_of(db) == EXPIRES
    currency = await scalar(db, "SELECT currency FROM payment_events")
    if stored is not None:
        assert currency == stored  # kept as sent (upper-cased), never cut
    (flagged,) = await reconciliation(client)
    assert (flagged["reason"], flagged["order_id"]) == ("currency_mismatch", order["id"])
    assert flagged["amount"] is None  # not money in a currency we know


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda o: signed_generic(generic_event(o, currency="eur"), "evt-eur"), id="generic"
        ),
        pytest.param(lambda o: signed_stripe(stripe_event(o, currency="eur")), id="stripe"),
    ],
)
async def test_a_lowercase_currency_code_is_the_same_currency(
    client: httpx.AsyncClient,
    db: Container,
    order: dict[str, Any],
    make: Any,
) -> None:
    response = await deliver(client, make(order))

    assert response.json()["outcome"] == "fulfil"
    assert await order_status(client, order["id"]) == "FULFILLED"
    assert await scalar(db, "SELECT amount_cents FROM payment_events") == PAYABLE_CENTS


def _with_note(event: dict[str, Any], note: str) -> dict[str, Any]:
    return event | {"note": note}


# PostgreSQL can't store half a surrogate pair (nor U+0000) in text or jsonb; JSON can
# carry one as an escape, and a body in UTF-16 carries its escapes in other bytes.
UNSTORABLE_CHARACTERS: list[Any] = [
    pytest.param(
        lambda o: signed_generic(_with_note(generic_event(o), "half \ud800 a pair"), "evt-s1"),
        "fulfil",
        id="generic-payload",
    ),
    pytest.param(
        lambda o: signed_stripe(_with_note(stripe_event(o), "half \udc80 a pair")),
        "fulfil",
        id="stripe-payload",
    ),
    pytest.param(
        lambda o: signed_generic(generic_event(o) | {"\udfff": 1}, "evt-s2"),
        "fulfil",
        id="generic-key",
    ),
    pytest.param(
        lambda o: signed_generic(
            generic_event(o) | {"data": generic_event(o)["data"] | {"order": "\ud800"}}, "evt-s3"
        ),
        "reconcile",
        id="generic-order-reference",
    ),
    pytest.param(
        lambda o: generic_raw(
            json.dumps(_with_note(generic_event(o), "nul \u0000 here")).encode("utf-16-le")
        ),
        "fulfil",
        id="generic-utf16-nul",
    ),
]


@pytest.mark.parametrize(("make", "outcome"), UNSTORABLE_CHARACTERS)
async def test_a_verified_event_holding_what_postgresql_cannot_store_is_stored(
    client: httpx.AsyncClient,
    db: Container,
    order: dict[str, Any],
    make: Any,
    outcome: str,
) -> None:
    """Not a 503 at every retry of the provider: the character becomes U+FFFD."""
    response = await deliver(client, make(order))

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == outcome
    assert await scalar(db, "SELECT count(*) FROM payment_events") == 1
    assert "\ufffd" in await scalar(db, "SELECT payload::text FROM payment_events")
    expected = "FULFILLED" if outcome == "fulfil" else "AWAITING_PAYMENT"
    assert await order_status(client, order["id"]) == expected
