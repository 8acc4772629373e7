"""A partner's tacit renewal end to end: the sweep renews the mailbox 7 days before its
expiry from the prepaid credit, debited once however often it runs, and the partner's
`renewal.completed` webhook reaches a loopback receiver, signed, and verified there with
the standardwebhooks library."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx

from app.container import Container
from app.services.sweeps import SweepContext, run_sweeps
from tests.api.helpers import put_mailbox
from tests.api.webhook_receiver import Delivery, Receiver
from tests.conftest import PARTNER, STAFF
from tests.integration.tacit_setup import set_up_partner

EXPIRY = date(2026, 11, 30)  # the tests' clock stands at 2026-11-25: 5 days before


async def test_a_tacit_renewal_debits_the_credit_once_and_the_partner_hears_it_signed(
    db: Container, local_client: httpx.AsyncClient, receiver: Receiver, delivery: Delivery
) -> None:
    await set_up_partner(db, db.clock())
    endpoint = await local_client.put(
        "/v1/partner/webhook-endpoint", json={"url": receiver.url}, headers=PARTNER
    )
    assert endpoint.status_code == 201, endpoint.text
    receiver.secret = endpoint.json()["secret"]
    await put_mailbox(
        local_client, "mbx-t", account_id="acc-p", partner_id="ptn-1", expires_on=EXPIRY
    )
    mode = await local_client.put(
        "/v1/partner/mailboxes/mbx-t/renewal-mode", json={"mode": "tacit", "years": 1},
        headers=PARTNER,
    )  # fmt: skip
    assert mode.status_code == 200, mode.text
    before = (await local_client.get("/v1/partner/credit", headers=PARTNER)).json()

    for _ in range(3):  # the worker's passes: the renewal happens on the first only
        await run_sweeps(SweepContext(db.unit_of_work, db.clock()))
        await delivery.run()

    after = (await local_client.get("/v1/partner/credit", headers=PARTNER)).json()
    debits = [m for m in after["items"] if m["kind"] == "order"]
    assert len(debits) == 1
    assert debits[0]["amount"] == {"amount": "-12.08", "currency": "EUR"}
    paid = Decimal(before["balance"]["amount"]) - Decimal(after["balance"]["amount"])
    assert paid == Decimal("12.08")
    shown = await local_client.get("/v1/mailboxes/mbx-t", headers=STAFF)
    assert shown.json()["expires_on"] == "2027-11-30"

    renewal_events = [
        r for r in receiver.received if (r.verified or {}).get("type") == "renewal.completed"
    ]
    [sent] = renewal_events
    assert sent.status == 204
    assert sent.verified is not None
    assert sent.verified["data"]["mailbox_id"] == "mbx-t"
    assert sent.verified["data"]["expires_on"] == "2027-11-30"
    assert sent.headers["webhook-id"] == sent.verified["id"]
