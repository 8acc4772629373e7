"""The whole journey, as acceptance states it: quote → order → confirmation email →
signed webhook → mailbox renewed (and the mail platform told), over HTTP on PostgreSQL,
with a real SMTP server and a real mail-platform server on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from tests.api.helpers import put_mailbox
from tests.api.loopback_servers import MailPlatform, RunOnce, SmtpServer
from tests.api.order_helpers import (
    PUBLIC_ADMINISTRATION,
    new_key,
    order_body,
    quote_id_for,
    send_generic,
    send_stripe_payment,
)
from tests.conftest import CUSTOMER, STAFF, MovableClock

EXPIRES = date(2027, 1, 10)

# method, what the email must say about paying, how the provider registers it
METHODS = [
    ("card", "https://pay.example.it/checkout?order=", "stripe"),
    ("paypal", "PayPal", "stripe"),
    ("bank_transfer", "IT60X0542811101000000123456", "generic"),
    ("postal_slip_prefilled", "001234567", "generic"),
    ("postal_slip", "001234567", "generic"),
]


async def _pay(client: httpx.AsyncClient, order: dict[str, Any], provider: str) -> None:
    now = datetime.now(UTC)
    cents = int(order["payable"]["amount"].replace(".", ""))
    if provider == "stripe":
        answer = await send_stripe_payment(client, order["id"], cents, now)
    else:
        answer = await send_generic(
            client, "payment.succeeded", order["number"], order["payable"]["amount"], now
        )
    assert answer.status_code == 200, answer.text


async def _journey(
    client: httpx.AsyncClient,
    worker: RunOnce,
    smtp: SmtpServer,
    platform: MailPlatform,
    item: dict[str, Any],
    method: str,
    provider: str,
    **order_fields: Any,
) -> tuple[dict[str, Any], str]:
    quote_id = await quote_id_for(client, CUSTOMER, [item])
    placed = await client.post(
        "/v1/orders", json=order_body(quote_id, method, **order_fields), headers=new_key(CUSTOMER)
    )
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()

    await worker()  # the confirmation email leaves through the outbox
    (mail,) = smtp.inbox.received
    assert mail.rcpt_tos == [order_fields.get("holder", {}).get("email", "mario.rossi@example.it")]
    assert order["number"] in mail.message["Subject"]

    await _pay(client, order, provider)
    await worker()  # the renewal reaches the mail platform
    assert [call.body["order_id"] for call in platform.answered(201)] == [order["id"]]
    return order, mail.text


@pytest.mark.parametrize(("method", "instruction", "provider"), METHODS)
async def test_each_payment_method_from_quote_to_renewed_mailbox(
    client: httpx.AsyncClient,
    worker: RunOnce,
    smtp: SmtpServer,
    platform: MailPlatform,
    method: str,
    instruction: str,
    provider: str,
) -> None:
    await put_mailbox(client, "mbx-1", "PRO", expires_on=EXPIRES)

    order, text = await _journey(
        client, worker, smtp, platform, {"mailbox_id": "mbx-1"}, method, provider
    )

    assert instruction in text
    if method in ("bank_transfer", "postal_slip", "postal_slip_prefilled"):
        assert order["number"] in text  # the transfer's or slip's description
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert mailbox["expires_on"] == "2028-01-10"
    assert mailbox["auto_renewal"] is (provider == "stripe")
    assert (await client.get(f"/v1/orders/{order['id']}", headers=CUSTOMER)).json()[
        "status"
    ] == "FULFILLED"


async def test_downgrade_deleting_the_archive_from_quote_to_renewed_mailbox(
    client: httpx.AsyncClient,
    worker: RunOnce,
    smtp: SmtpServer,
    platform: MailPlatform,
    clock: MovableClock,
) -> None:
    """Changed by spec (domain.md "When a plan change takes effect"): the plan, the extra
    space and the archive deletion now come the day after the current expiry, not at
    payment; the end state asserted is the same."""
    await put_mailbox(
        client, "mbx-1", "PREMIUM", expires_on=EXPIRES, used_mailbox_mb=1500, used_archive_mb=5000
    )
    item = {"mailbox_id": "mbx-1", "plan": "STANDARD", "extra_mailbox_gb": 1}

    order, text = await _journey(
        client, worker, smtp, platform, item, "bank_transfer", "generic",
        acknowledge_archive_deletion=True,
    )  # fmt: skip

    assert order["payable"]["amount"] == "15.74"
    assert "archivio di sicurezza" in text  # the email repeats the warning
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert (mailbox["plan"], mailbox["extra_mailbox_gb"], mailbox["used_archive_mb"]) == (
        "PREMIUM",
        0,
        5000,
    )
    assert platform.answered(201)[0].body["delete_archive"] is False

    clock.now = datetime.combine(EXPIRES + timedelta(days=1), time(10), tzinfo=UTC)
    await worker()
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert (mailbox["plan"], mailbox["extra_mailbox_gb"], mailbox["used_archive_mb"]) == (
        "STANDARD",
        1,
        0,
    )
    assert platform.answered(201)[1].body["delete_archive"] is True


async def test_public_administration_with_split_payment_from_quote_to_renewed_mailbox(
    client: httpx.AsyncClient, worker: RunOnce, smtp: SmtpServer, platform: MailPlatform
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=EXPIRES)
    billing = {
        "public_administration": {
            "office_code": "UFABCD",
            "cig": "ABC1234567",
            "split_payment": True,
        }
    }

    order, text = await _journey(
        client, worker, smtp, platform, {"mailbox_id": "mbx-1"}, "bank_transfer", "generic",
        holder=PUBLIC_ADMINISTRATION, billing=billing,
    )  # fmt: skip

    assert (order["total"]["amount"], order["payable"]["amount"]) == ("12.08", "9.90")
    assert "9.90" in text
    assert "scissione dei pagamenti" in text
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=STAFF)).json()
    assert mailbox["expires_on"] == "2028-01-10"
