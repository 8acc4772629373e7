"""A verified payment whose processing crashes is stored anyway, and the worker applies it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from app.services import payments
from app.worker import deliverers, run_once
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for, send_generic
from tests.conftest import CUSTOMER, MovableClock

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's


async def test_a_payment_whose_processing_crashes_is_kept_and_applied_by_the_worker(
    client: httpx.AsyncClient,
    db: Container,
    clock: MovableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=datetime(2027, 1, 10).date())
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    order = (
        await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))
    ).json()

    async def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the process died half-way through the renewal")

    with monkeypatch.context() as patch:
        patch.setattr(payments, "fulfil_but_renewal", crash)
        answer = await send_generic(
            client, "payment.succeeded", order["number"], "12.08", datetime.now(UTC)
        )

    assert answer.status_code == 200
    assert answer.json() == {"received": True, "duplicate": False, "outcome": None}
    async with db.engine.connect() as connection:
        stored = (await connection.execute(text("SELECT processed_at FROM payment_events"))).all()
    assert len(stored) == 1
    assert stored[0].processed_at is None  # kept, not half-applied
    unpaid = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert unpaid["status"] == "AWAITING_PAYMENT"

    clock.advance(timedelta(minutes=1))
    async with httpx.AsyncClient() as http:
        await run_once(db, deliverers(db, http))

    paid = (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()
    assert paid["status"] == "FULFILLED"
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert mailbox["expires_on"] == "2028-01-10"
