"""The outbox through the real worker: confirmation emails over SMTP, renewals to the platform.

An aiosmtpd server and an HTTP server run in-process on loopback; the worker's own
deliverers (aiosmtplib, httpx) talk to them. Nothing is mocked, the database is real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.container import Container
from app.db.models import OutboxRow
from app.domain.access import Role
from app.worker import deliverers, run_once
from tests.api.helpers import TODAY, put_mailbox
from tests.api.loopback_servers import (
    MailPlatform,
    RunOnce,
    SmtpServer,
    free_port,
    worker_container,
)
from tests.api.order_helpers import (
    PERSON,
    PUBLIC_ADMINISTRATION,
    new_key,
    order_body,
    pay_in_full,
    quote_id_for,
    send_stripe_payment,
)
from tests.conftest import CUSTOMER, PARTNER, MovableClock, bearer

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

ENGLISH_CUSTOMER = bearer(Role.CUSTOMER, "acc-p")
IN_30_DAYS = TODAY + timedelta(days=30)  # 2026-12-25


# --- helpers --------------------------------------------------------------------------------


async def _order(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    mailbox_ids: list[str],
    method: str = "bank_transfer",
    years: int = 1,
    **overrides: Any,
) -> dict[str, Any]:
    quote_id = await quote_id_for(client, headers, [{"mailbox_id": m} for m in mailbox_ids], years)
    response = await client.post(
        "/v1/orders", json=order_body(quote_id, method, **overrides), headers=new_key(headers)
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def _outbox(db: Container, kind: str) -> list[OutboxRow]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.kind == kind).order_by(OutboxRow.id)
        )
        return list(rows.all())


async def _pay_by_transfer(client: httpx.AsyncClient, order: dict[str, Any]) -> None:
    paid = await pay_in_full(client, order)
    assert paid.status_code == 200, paid.text
    assert paid.json()["outcome"] == "fulfil"


# --- the confirmation email ------------------------------------------------------------------


async def test_confirmation_email_reaches_the_holder_in_italian(
    client: httpx.AsyncClient, db: Container, smtp: SmtpServer, worker: RunOnce
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=IN_30_DAYS)
    # the account's language decides, not the request's
    order = await _order(client, {**CUSTOMER, "Accept-Language": "en"}, ["mbx-1"])
    assert smtp.inbox.received == []  # queued with the order, sent by the worker

    assert await worker() == 1

    [mail] = smtp.inbox.received
    number = order["number"]
    assert mail.rcpt_tos == [PERSON["email"]]
    assert mail.message["To"] == PERSON["email"]
    assert mail.message["From"] == db.settings.smtp_from
    assert number in mail.message["Subject"]
    assert mail.message["Subject"] == f"Conferma ordine {number}: rinnovo casella PEC"
    text = mail.text
    assert text.startswith("Gentile Mario Rossi,")
    assert f"IBAN {db.settings.bank_iban}" in text
    assert f"indicando come causale esattamente: {number}." in text
    assert "Importo da pagare: 12.08 EUR" in text
    assert "mbx-1@pec.example.it: STANDARD, 1 anno, nuova scadenza 2027-12-25" in text
    assert "Dear" not in text
    assert "Pay by bank transfer" not in text
    [row] = await _outbox(db, "email")
    assert row.delivered_at is not None
    assert row.attempts == 1

    assert await worker() == 0  # nothing new: no duplicate
    assert len(smtp.inbox.received) == 1


async def test_confirmation_email_is_in_english_for_an_english_account(
    client: httpx.AsyncClient, db: Container, smtp: SmtpServer, worker: RunOnce
) -> None:
    await put_mailbox(client, "mbx-en", "PRO", account_id="acc-p", expires_on=IN_30_DAYS)
    holder = {**PERSON, "name": "Anna Neri", "email": "Anna.Neri@Example.com"}
    order = await _order(
        client, {**ENGLISH_CUSTOMER, "Accept-Language": "it"}, ["mbx-en"], holder=holder
    )

    assert await worker() == 1

    [mail] = smtp.inbox.received
    number = order["number"]
    assert mail.rcpt_tos == ["anna.neri@example.com"]
    assert mail.message["To"] == "anna.neri@example.com"
    assert mail.message["Subject"] == f"Order {number} confirmed: PEC mailbox renewal"
    text = mail.text
    assert text.startswith("Dear Anna Neri,")
    assert f"IBAN {db.settings.bank_iban}" in text
    assert f"with exactly this description: {number}." in text
    assert "Amount to pay: 30.50 EUR" in text
    assert "Gentile" not in text
    assert "causale" not in text

    assert await worker() == 0
    assert len(smtp.inbox.received) == 1


async def test_public_administration_email_asks_for_the_net_under_split_payment(
    client: httpx.AsyncClient, db: Container, smtp: SmtpServer, worker: RunOnce
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=IN_30_DAYS)
    billing = {
        "public_administration": {
            "office_code": "UFABCD",
            "cig": "ABC1234567",
            "split_payment": True,
        }
    }
    order = await _order(client, CUSTOMER, ["mbx-1"], holder=PUBLIC_ADMINISTRATION, billing=billing)

    assert await worker() == 1

    [mail] = smtp.inbox.received
    assert mail.rcpt_tos == [PUBLIC_ADMINISTRATION["email"]]
    text = mail.text
    assert text.startswith("Gentile Comune di Esempio,")
    assert "Imponibile 9.90 EUR - IVA 2.18 EUR - Totale 12.08 EUR" in text
    assert "Importo da pagare: 9.90 EUR" in text
    assert "scissione dei pagamenti" in text
    assert f"IBAN {db.settings.bank_iban}" in text
    assert f"causale esattamente: {order['number']}." in text


async def test_partner_credit_email_says_the_order_is_paid_and_renewed(
    client: httpx.AsyncClient, smtp: SmtpServer, worker: RunOnce
) -> None:
    await put_mailbox(
        client, "mbx-p", "STANDARD", account_id="acc-p", partner_id="ptn-1", expires_on=IN_30_DAYS
    )
    order = await _order(client, {**PARTNER, "Accept-Language": "en"}, ["mbx-p"], "partner_credit")
    assert order["status"] == "FULFILLED"

    # the email, the renewal to the mail platform, and the partner's renewal.completed
    assert await worker() == 3

    [mail] = smtp.inbox.received
    assert mail.message["Subject"] == f"Order {order['number']} paid: PEC mailbox renewal done"
    text = mail.text
    assert "Amount to pay" not in text
    assert "Paid from the prepaid credit of the Partner that manages the mailbox: 12.08 EUR" in text
    assert "mbx-p@pec.example.it: STANDARD, 1 year, new expiry 2027-12-25" in text


@pytest.mark.parametrize(
    ("headers", "account", "language"),
    [(CUSTOMER, "acc-1", "it"), (ENGLISH_CUSTOMER, "acc-p", "en")],
    ids=["it", "en"],
)
async def test_confirmation_email_declares_its_language(
    client: httpx.AsyncClient,
    smtp: SmtpServer,
    worker: RunOnce,
    headers: dict[str, str],
    account: str,
    language: str,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", account_id=account, expires_on=IN_30_DAYS)
    await _order(client, headers, ["mbx-1"])

    assert await worker() == 1

    [mail] = smtp.inbox.received
    assert mail.message["Content-Language"] == language


async def test_email_is_retried_while_the_smtp_server_is_down(
    client: httpx.AsyncClient, db: Container, platform: MailPlatform, clock: MovableClock
) -> None:
    down = SmtpServer(free_port())  # nothing listens there yet
    container = worker_container(db, down.port, platform.url)
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=IN_30_DAYS)
    order = await _order(client, CUSTOMER, ["mbx-1"])
    async with httpx.AsyncClient() as http:
        senders = deliverers(container, http)

        assert await run_once(container, senders) == 1  # one failed attempt
        [row] = await _outbox(db, "email")
        assert (row.delivered_at, row.attempts) == (None, 1)
        assert row.last_error

        down.start()
        try:
            assert await run_once(container, senders) == 0  # not due before the backoff
            clock.advance(timedelta(seconds=6))
            assert await run_once(container, senders) == 1
            clock.advance(timedelta(hours=2))
            assert await run_once(container, senders) == 0
        finally:
            down.stop()

    [mail] = down.inbox.received
    assert order["number"] in mail.message["Subject"]
    [row] = await _outbox(db, "email")
    assert row.delivered_at is not None
    assert row.attempts == 2


# --- the mail platform -----------------------------------------------------------------------


async def test_platform_is_told_once_per_renewed_mailbox(
    client: httpx.AsyncClient,
    db: Container,
    smtp: SmtpServer,
    platform: MailPlatform,
    worker: RunOnce,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=IN_30_DAYS)
    await put_mailbox(client, "mbx-2", "PRO", expires_on=TODAY + timedelta(days=60))
    order = await _order(client, CUSTOMER, ["mbx-1", "mbx-2"], "card", years=2)
    assert await worker() == 1  # the confirmation email
    assert platform.calls == []  # nothing renewed before the payment

    paid = await send_stripe_payment(
        client, order["id"], int(order["payable"]["amount"].replace(".", "")), datetime.now(UTC)
    )
    assert paid.json()["outcome"] == "fulfil", paid.text
    assert await worker() == 2

    calls = sorted(platform.calls, key=lambda call: call.path)
    assert [(c.method, c.path, c.status) for c in calls] == [
        ("POST", "/mailboxes/mbx-1/renewals", 201),
        ("POST", "/mailboxes/mbx-2/renewals", 201),
    ]
    expiries = {"mbx-1": ("2026-12-25", "2028-12-25"), "mbx-2": ("2027-01-24", "2029-01-24")}
    for call in calls:
        mailbox_id = call.body["mailbox_id"]
        assert call.headers["idempotency-key"] == f"renewal:{order['id']}:{mailbox_id}"
        assert call.headers["authorization"] == "Bearer t"
        assert call.headers["content-type"].startswith("application/json")
        assert (call.body["previous_expiry"], call.body["expires_on"]) == expiries[mailbox_id]
        assert call.body["order_id"] == order["id"]
        assert call.body["address"] == f"{mailbox_id}@pec.example.it"
        assert (call.body["auto_renewal"], call.body["auto_renewal_years"]) == (True, 2)
        assert call.body["delete_archive"] is False
        mirrored = (await client.get(f"/v1/mailboxes/{mailbox_id}", headers=CUSTOMER)).json()
        assert mirrored["expires_on"] == call.body["expires_on"]
        assert mirrored["plan"] == call.body["plan"]
    assert all(row.delivered_at is not None for row in await _outbox(db, "mail_platform"))

    assert await worker() == 0  # no duplicates
    assert len(platform.calls) == 2
    assert len(smtp.inbox.received) == 1


async def test_platform_outage_is_retried_with_backoff_and_delivered_once(
    client: httpx.AsyncClient,
    db: Container,
    smtp: SmtpServer,
    platform: MailPlatform,
    worker: RunOnce,
    clock: MovableClock,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=IN_30_DAYS)
    order = await _order(client, CUSTOMER, ["mbx-1"])
    assert await worker() == 1  # the email goes out; the platform is not involved yet
    platform.fail_first = 2
    await _pay_by_transfer(client, order)

    assert await worker() == 1  # tried, failed (503)
    [row] = await _outbox(db, "mail_platform")
    assert (row.delivered_at, row.attempts) == (None, 1)
    assert row.last_error is not None
    assert "503" in row.last_error
    assert await worker() == 0  # backing off: not retried at once
    assert len(platform.calls) == 1

    clock.advance(timedelta(seconds=6))  # past the first backoff (5 s)
    assert await worker() == 1  # second 503
    assert len(platform.calls) == 2
    clock.advance(timedelta(seconds=6))  # the second backoff is 10 s: not yet
    assert await worker() == 0
    assert len(platform.calls) == 2

    clock.advance(timedelta(seconds=5))
    assert await worker() == 1  # the platform is back: delivered

    assert [c.status for c in platform.calls] == [503, 503, 201]
    keys = {c.headers["idempotency-key"] for c in platform.calls}
    assert keys == {f"renewal:{order['id']}:mbx-1"}  # the retry is recognisably the same
    assert all(c.body == platform.calls[0].body for c in platform.calls)
    assert platform.calls[-1].body["expires_on"] == "2027-12-25"
    assert len(platform.answered(201)) == 1
    [row] = await _outbox(db, "mail_platform")
    assert row.delivered_at is not None
    assert row.attempts == 3

    clock.advance(timedelta(hours=2))
    assert await worker() == 0  # delivered exactly once, nothing sent again
    assert len(platform.calls) == 3
    assert len(smtp.inbox.received) == 1
    mailbox = (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert mailbox["expires_on"] == "2027-12-25"  # renewed once, whatever the retries
