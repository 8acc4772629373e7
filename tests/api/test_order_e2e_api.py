"""End to end over HTTP: quote → order → confirmation email queued → signed webhook → renewal.

Every payment method, the archive-deleting downgrade, a public administration under split
payment, a partner paying from its credit, cancelling, and listing — on the real database.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.container import Container
from app.db.models import MailboxRow, OrderRow, OutboxRow, PartnerRow, PendingRenewalRow
from app.services.plan_changes import apply_due_plan_changes
from tests.api.helpers import TODAY, put_mailbox
from tests.api.order_helpers import (
    PUBLIC_ADMINISTRATION,
    new_key,
    order_body,
    quote_id_for,
    send_generic,
    send_stripe_payment,
)
from tests.conftest import CUSTOMER, OTHER_CUSTOMER, PARTNER, STAFF, MovableClock

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

NUMBER = re.compile(r"^PEC-2026-\d{7}$")
IN_30_DAYS = TODAY + timedelta(days=30)  # 2026-12-25


def now() -> datetime:
    """Webhooks are signed with the real time: providers' libraries check it."""
    return datetime.now(UTC)


async def _quote(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    items: list[dict[str, Any]],
    years: int = 1,
) -> dict[str, Any]:
    response = await client.post(
        "/v1/quotes", json={"years": years, "items": items}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "ok", body
    return body


async def _place(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post("/v1/orders", json=body, headers=new_key(headers))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def _get(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] = CUSTOMER
) -> dict[str, Any]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _mailbox(
    client: httpx.AsyncClient, mailbox_id: str, headers: dict[str, str] = CUSTOMER
) -> dict[str, Any]:
    return await _get(client, f"/v1/mailboxes/{mailbox_id}", headers)


async def _order(
    client: httpx.AsyncClient, order_id: str, headers: dict[str, str] = CUSTOMER
) -> dict[str, Any]:
    return await _get(client, f"/v1/orders/{order_id}", headers)


async def _count(db: Container, model: type[Any]) -> int:
    async with db.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _credit_cents(db: Container, partner_id: str = "ptn-1") -> int:
    async with db.sessionmaker() as session:
        credit = await session.scalar(
            select(PartnerRow.credit_cents).where(PartnerRow.id == partner_id)
        )
    assert credit is not None
    return int(credit)


def _blocker_codes(mailbox: dict[str, Any]) -> list[str]:
    return [b["code"] for b in mailbox["renewal_blockers"]]


# --- one test per payment method ------------------------------------------------------------

METHODS = [
    # method, current plan, expiry, choice, years, expected plan/extras, expected expiry
    pytest.param(
        "card",
        "STANDARD",
        IN_30_DAYS,
        {"plan": "PRO", "extra_mailbox_gb": 1},
        2,
        ("PRO", 1, 0),
        date(2028, 12, 25),
        id="card",
    ),
    pytest.param(
        "paypal",
        "PRO",
        date(2028, 2, 29),  # a leap day: + 3 calendar years is 28 February
        {"extra_archive_gb": 2},
        3,
        ("PRO", 0, 2),
        date(2031, 2, 28),
        id="paypal",
    ),
    pytest.param(
        "bank_transfer",
        "STANDARD",
        IN_30_DAYS,
        {"extra_mailbox_gb": 1},
        1,
        ("STANDARD", 1, 0),
        date(2027, 12, 25),
        id="bank_transfer",
    ),
    pytest.param(
        "postal_slip_prefilled",
        "PRO",
        IN_30_DAYS,
        {"plan": "PREMIUM", "extra_mailbox_gb": 2, "extra_archive_gb": 1},
        4,
        ("PREMIUM", 2, 1),
        date(2030, 12, 25),
        id="postal_slip_prefilled",
    ),
    pytest.param(
        "postal_slip",
        "PREMIUM",
        date(2026, 11, 15),  # expired 10 days ago, in grace: a late renewal does not gain days
        {},
        5,
        ("PREMIUM", 0, 0),
        date(2031, 11, 15),
        id="postal_slip",
    ),
]


@pytest.mark.parametrize(
    ("method", "plan", "expires_on", "choice", "years", "expected", "new_expiry"), METHODS
)
async def test_each_payment_method_renews_the_mailbox_once_paid(
    client: httpx.AsyncClient,
    db: Container,
    method: str,
    plan: str,
    expires_on: date,
    choice: dict[str, Any],
    years: int,
    expected: tuple[str, int, int],
    new_expiry: date,
) -> None:
    await put_mailbox(client, "mbx-1", plan, expires_on=expires_on, auto_renewal_years=4)
    quoted = await _quote(client, CUSTOMER, [{"mailbox_id": "mbx-1", **choice}], years)
    assert quoted["items"][0]["new_expiry"] == new_expiry.isoformat()

    order = await _place(client, CUSTOMER, order_body(quoted["id"], method))

    assert order["status"] == "AWAITING_PAYMENT"
    assert NUMBER.match(order["number"]), order["number"]
    assert (order["payment_method"], order["years"]) == (method, years)
    assert order["payable"] == order["total"] == quoted["total"]
    assert order["split_payment"] is False
    assert order["paid_at"] is None
    assert order["fulfilled_at"] is None
    [item] = order["items"]
    assert item["mailbox_id"] == "mbx-1"
    assert (item["plan"], item["extra_mailbox_gb"], item["extra_archive_gb"]) == expected
    _assert_instructions(order, method, db)
    assert await _count(db, OutboxRow) == 1  # the confirmation email, queued with the order
    assert _blocker_codes(await _mailbox(client, "mbx-1")) == ["pending_order_exists"]

    payable_cents = int(order["payable"]["amount"].replace(".", ""))
    if method in ("card", "paypal"):
        paid = await send_stripe_payment(client, order["id"], payable_cents, now())
    else:  # the bank/postal feed names the order by its number, as the transfer's description
        paid = await send_generic(
            client, "payment.succeeded", order["number"], order["payable"]["amount"], now()
        )

    assert paid.status_code == 200, paid.text
    assert paid.json() == {"received": True, "duplicate": False, "outcome": "fulfil"}
    fulfilled = await _order(client, order["id"])
    assert fulfilled["status"] == "FULFILLED"
    assert fulfilled["paid_at"] is not None
    assert fulfilled["fulfilled_at"] is not None
    mailbox = await _mailbox(client, "mbx-1")
    assert mailbox["expires_on"] == new_expiry.isoformat()
    assert (mailbox["plan"], mailbox["extra_mailbox_gb"], mailbox["extra_archive_gb"]) == expected
    assert mailbox["status"] == "ACTIVE"
    if method in ("card", "paypal"):
        assert (mailbox["auto_renewal"], mailbox["auto_renewal_years"]) == (True, years)
        # renewed automatically from now on: by hand only once it is turned off
        assert _blocker_codes(mailbox) == ["auto_renewal_active"]
        off = await client.put(
            "/v1/mailboxes/mbx-1/auto-renewal", json={"enabled": False}, headers=CUSTOMER
        )
        assert off.status_code == 200, off.text
        mailbox = await _mailbox(client, "mbx-1")
    else:
        assert (mailbox["auto_renewal"], mailbox["auto_renewal_years"]) == (False, 4)
    assert mailbox["renewable"] is True, mailbox["renewal_blockers"]
    await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])

    replay = (
        await send_stripe_payment(client, order["id"], payable_cents, now())
        if method in ("card", "paypal")
        else await send_generic(
            client, "payment.succeeded", order["number"], order["payable"]["amount"], now()
        )
    )
    assert replay.json()["outcome"] == "reconcile"  # a second payment is never applied
    assert (await _mailbox(client, "mbx-1"))["expires_on"] == new_expiry.isoformat()


def _assert_instructions(order: dict[str, Any], method: str, db: Container) -> None:
    settings = db.settings
    instructions = order["payment_instructions"]
    assert instructions["method"] == method
    assert instructions["amount"] == order["payable"]
    if method == "bank_transfer":
        assert instructions["registered"] == "next_working_day"
        assert instructions["iban"] == settings.bank_iban
        assert instructions["beneficiary"] == settings.bank_beneficiary
        assert instructions["description"] == order["number"]
        assert instructions["postal_account"] is None
        assert instructions["payment_url"] is None
    elif method in ("postal_slip", "postal_slip_prefilled"):
        assert instructions["registered"] == (
            "same_day" if method == "postal_slip_prefilled" else "five_to_seven_working_days"
        )
        assert instructions["postal_account"] == settings.postal_account
        assert instructions["description"] == order["number"]
        assert instructions["iban"] is None
        assert instructions["payment_url"] is None
    else:
        assert instructions["registered"] == "immediately"
        url = instructions["payment_url"]
        assert url.startswith(settings.card_payment_url), url
        assert f"order={order['id']}" in url
        assert f"method={method}" in url
        assert instructions["iban"] is None
        assert instructions["postal_account"] is None


# --- a downgrade that deletes the security archive ------------------------------------------


async def test_downgrade_deleting_the_archive_needs_the_acknowledgement(
    client: httpx.AsyncClient, db: Container, clock: MovableClock
) -> None:
    """Changed by spec (domain.md "When a plan change takes effect"): paid 30 days before
    the expiry, the downgrade and its archive deletion come the day after it, not at
    payment; the end state asserted is the same."""
    await put_mailbox(
        client,
        "mbx-1",
        "PREMIUM",
        expires_on=IN_30_DAYS,
        used_mailbox_mb=1500,
        used_archive_mb=5000,
        extra_archive_gb=1,
    )
    quoted = await _quote(
        client, CUSTOMER, [{"mailbox_id": "mbx-1", "plan": "STANDARD", "extra_mailbox_gb": 1}]
    )
    assert quoted["net"]["amount"] == "12.90"
    warnings = {w["code"]: w for w in quoted["items"][0]["warnings"]}
    assert warnings["archive_will_be_deleted"]["archived_mb"] == 5000
    before = await _mailbox(client, "mbx-1")

    refused = await client.post(
        "/v1/orders", json=order_body(quoted["id"]), headers=new_key(CUSTOMER)
    )

    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "acknowledgement_required"
    assert [e["field"] for e in refused.json()["errors"]] == ["acknowledge_archive_deletion"]
    assert await _count(db, OrderRow) == 0
    assert await _count(db, PendingRenewalRow) == 0
    assert await _count(db, OutboxRow) == 0
    assert await _mailbox(client, "mbx-1") == before
    assert (await client.get("/v1/orders", headers=CUSTOMER)).json()["items"] == []

    order = await _place(
        client, CUSTOMER, order_body(quoted["id"], acknowledge_archive_deletion=True)
    )
    assert order["items"][0]["deletes_archive"] is True
    assert order["payable"]["amount"] == "15.74"
    paid = await send_generic(client, "payment.succeeded", order["number"], "15.74", now())

    assert paid.json()["outcome"] == "fulfil", paid.text
    kept = await _mailbox(client, "mbx-1")
    assert (kept["plan"], kept["used_archive_mb"], kept["extra_archive_gb"]) == ("PREMIUM", 5000, 1)
    assert kept["scheduled_change"]["effective_on"] == "2026-12-26"
    assert kept["expires_on"] == "2027-12-25"

    clock.now = datetime(2026, 12, 26, 10, 0, tzinfo=UTC)
    assert await apply_due_plan_changes(db.unit_of_work, clock.now) == 1
    mailbox = await _mailbox(client, "mbx-1")
    assert mailbox["plan"] == "STANDARD"
    assert (mailbox["used_archive_mb"], mailbox["extra_archive_gb"]) == (0, 0)
    assert (mailbox["used_mailbox_mb"], mailbox["extra_mailbox_gb"]) == (1500, 1)
    assert mailbox["expires_on"] == "2027-12-25"
    assert mailbox["renewable"] is True


# --- public administrations -----------------------------------------------------------------

PA_BILLING = {
    "public_administration": {
        "office_code": "UFABCD",
        "cig": "ABC1234567",
        "split_payment": True,
    }
}


async def test_public_administration_is_fulfilled_on_commitment_and_pays_the_net(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=IN_30_DAYS)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    order = await _place(
        client,
        CUSTOMER,
        order_body(quote_id, holder=PUBLIC_ADMINISTRATION, billing=PA_BILLING),
    )

    assert order["split_payment"] is True
    assert (order["net"]["amount"], order["vat"]["amount"], order["total"]["amount"]) == (
        "9.90",
        "2.18",
        "12.08",
    )
    assert order["payable"] == order["net"] == order["payment_instructions"]["amount"]
    assert order["payment_instructions"]["description"] == order["number"]
    assert order["payment_instructions"]["iban"] == db.settings.bank_iban

    committed = await client.post(
        f"/v1/admin/orders/{order['id']}/payment-commitment", headers=STAFF
    )

    assert committed.status_code == 200, committed.text
    body = committed.json()
    assert body["status"] == "FULFILLED"
    assert body["paid_at"] is None
    assert body["commitment_at"] is not None
    assert body["fulfilled_at"] is not None
    mailbox = await _mailbox(client, "mbx-1")
    assert (mailbox["expires_on"], mailbox["renewable"]) == ("2027-12-25", True)
    again = await client.post(f"/v1/admin/orders/{order['id']}/payment-commitment", headers=STAFF)
    assert again.status_code == 409
    assert again.json()["code"] == "commitment_not_applicable"

    paid = await send_generic(client, "payment.succeeded", order["number"], "9.90", now())

    assert paid.status_code == 200, paid.text
    assert paid.json()["outcome"] == "record_payment"
    settled = await _order(client, order["id"])
    assert settled["status"] == "FULFILLED"
    assert settled["paid_at"] is not None
    assert (await _mailbox(client, "mbx-1"))["expires_on"] == "2027-12-25"  # moved once


async def test_public_administration_without_split_payment_pays_the_total(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=IN_30_DAYS)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    billing = {"public_administration": {**PA_BILLING["public_administration"]}}
    billing["public_administration"]["split_payment"] = False

    order = await _place(
        client, CUSTOMER, order_body(quote_id, holder=PUBLIC_ADMINISTRATION, billing=billing)
    )

    assert order["split_payment"] is False
    assert order["payable"] == order["total"] == {"amount": "12.08", "currency": "EUR"}
    net_only = await send_generic(client, "payment.succeeded", order["number"], "9.90", now())
    assert net_only.json()["outcome"] == "reconcile"
    paid = await send_generic(client, "payment.succeeded", order["number"], "12.08", now())
    assert paid.json()["outcome"] == "fulfil"
    assert (await _mailbox(client, "mbx-1"))["expires_on"] == "2027-12-25"


# --- partners -------------------------------------------------------------------------------


async def test_partner_order_is_paid_from_credit_and_fulfilled_at_once(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-p", "PRO", account_id="acc-p", partner_id="ptn-1")
    await put_mailbox(client, "mbx-p2", "PREMIUM", account_id="acc-p", partner_id="ptn-1")
    quote_id = await quote_id_for(client, PARTNER, [{"mailbox_id": "mbx-p"}])

    order = await _place(client, PARTNER, order_body(quote_id, "partner_credit"))

    assert order["status"] == "FULFILLED"
    assert order["paid_at"] is not None
    assert order["fulfilled_at"] is not None
    assert order["payable"]["amount"] == "30.50"
    assert order["payment_instructions"]["registered"] == "immediately"
    mailbox = await _mailbox(client, "mbx-p", PARTNER)
    assert (mailbox["expires_on"], mailbox["auto_renewal"]) == ("2027-12-25", False)
    assert (await _order(client, order["id"], PARTNER))["status"] == "FULFILLED"
    assert await _credit_cents(db) == 10_000 - 3_050

    # PREMIUM for 2 years is 97.60: it would fit in 100.00, not in what is left
    second = await quote_id_for(client, PARTNER, [{"mailbox_id": "mbx-p2"}], years=2)
    refused = await client.post(
        "/v1/orders", json=order_body(second, "partner_credit"), headers=new_key(PARTNER)
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "insufficient_credit"
    assert await _credit_cents(db) == 6950


async def test_partner_order_above_its_credit_writes_nothing(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_mailbox(client, "mbx-p", "PREMIUM", account_id="acc-p", partner_id="ptn-1")
    quoted = await _quote(client, PARTNER, [{"mailbox_id": "mbx-p"}], years=5)
    assert quoted["total"]["amount"] == "244.00"
    before = await _mailbox(client, "mbx-p", PARTNER)

    refused = await client.post(
        "/v1/orders", json=order_body(quoted["id"], "partner_credit"), headers=new_key(PARTNER)
    )

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "insufficient_credit"
    assert await _count(db, OrderRow) == 0
    assert await _count(db, PendingRenewalRow) == 0
    assert await _count(db, OutboxRow) == 0
    assert await _credit_cents(db) == 10_000
    assert await _mailbox(client, "mbx-p", PARTNER) == before
    async with db.sessionmaker() as session:
        row = await session.get(MailboxRow, "mbx-p")
    assert row is not None
    assert row.expires_on == IN_30_DAYS
    assert (await client.get("/v1/orders", headers=PARTNER)).json()["items"] == []


async def test_partner_may_not_pay_by_transfer_nor_customer_by_credit(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-p", "PRO", account_id="acc-p", partner_id="ptn-1")
    await put_mailbox(client, "mbx-1", "STANDARD")
    partner_quote = await quote_id_for(client, PARTNER, [{"mailbox_id": "mbx-p"}])
    customer_quote = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])

    by_transfer = await client.post(
        "/v1/orders", json=order_body(partner_quote, "bank_transfer"), headers=new_key(PARTNER)
    )
    by_credit = await client.post(
        "/v1/orders", json=order_body(customer_quote, "partner_credit"), headers=new_key(CUSTOMER)
    )

    assert by_transfer.status_code == 422, by_transfer.text
    assert [e["code"] for e in by_transfer.json()["errors"]] == ["partner_pays_by_credit"]
    assert by_credit.status_code == 422, by_credit.text
    assert [e["code"] for e in by_credit.json()["errors"]] == ["payment_method_not_allowed"]


# --- cancelling -----------------------------------------------------------------------------


async def test_cancelled_order_frees_the_mailbox_and_its_late_payment_is_reconciled(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=IN_30_DAYS)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    order = await _place(client, CUSTOMER, order_body(quote_id))

    cancelled = await client.post(f"/v1/orders/{order['id']}/cancel", headers=CUSTOMER)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "CANCELLED"
    assert cancelled.json()["closed_at"] is not None
    assert (await _order(client, order["id"]))["status"] == "CANCELLED"
    mailbox = await _mailbox(client, "mbx-1")
    assert (mailbox["renewable"], mailbox["renewal_blockers"]) == (True, [])
    new_quote = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    twice = await client.post(f"/v1/orders/{order['id']}/cancel", headers=CUSTOMER)
    assert twice.status_code == 409
    assert twice.json()["code"] == "order_not_cancellable"

    late = await send_generic(client, "payment.succeeded", order["number"], "12.08", now())

    assert late.status_code == 200, late.text
    assert late.json()["outcome"] == "reconcile"
    flagged = await client.get("/v1/admin/reconciliation", headers=STAFF)
    assert flagged.status_code == 200, flagged.text
    [item] = flagged.json()["items"]
    assert (item["reason"], item["order_id"], item["order_ref"]) == (
        "order_closed",
        order["id"],
        order["number"],
    )
    assert item["amount"] == {"amount": "12.08", "currency": "EUR"}
    assert (item["provider"], item["kind"]) == ("generic", "payment.succeeded")
    still = await _order(client, order["id"])
    assert (still["status"], still["paid_at"]) == ("CANCELLED", None)
    assert (await _mailbox(client, "mbx-1"))["expires_on"] == IN_30_DAYS.isoformat()

    replacement = await _place(client, CUSTOMER, order_body(new_quote))  # the hold is gone
    assert replacement["status"] == "AWAITING_PAYMENT"


async def test_a_fulfilled_order_is_not_cancellable(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", "STANDARD", expires_on=IN_30_DAYS)
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    order = await _place(client, CUSTOMER, order_body(quote_id, "card"))
    paid = await send_stripe_payment(client, order["id"], 1208, now())
    assert paid.json()["outcome"] == "fulfil", paid.text

    refused = await client.post(f"/v1/orders/{order['id']}/cancel", headers=CUSTOMER)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "order_not_cancellable"
    after = await _order(client, order["id"])
    assert (after["status"], after["closed_at"]) == ("FULFILLED", None)
    assert (await _mailbox(client, "mbx-1"))["expires_on"] == "2027-12-25"


# --- listing and visibility -----------------------------------------------------------------


async def test_orders_are_listed_newest_first_with_a_cursor_and_only_the_callers(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    placed: list[str] = []
    for n in (1, 2, 3):
        await put_mailbox(client, f"mbx-{n}", "STANDARD")
        quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": f"mbx-{n}"}])
        placed.append((await _place(client, CUSTOMER, order_body(quote_id)))["id"])
        clock.advance(timedelta(minutes=1))
    await put_mailbox(client, "mbx-b", "STANDARD", account_id="acc-2")
    theirs_quote = await quote_id_for(client, OTHER_CUSTOMER, [{"mailbox_id": "mbx-b"}])
    theirs = await _place(client, OTHER_CUSTOMER, order_body(theirs_quote))

    first = await client.get("/v1/orders", params={"limit": 2}, headers=CUSTOMER)

    assert first.status_code == 200, first.text
    page = first.json()
    assert [o["id"] for o in page["items"]] == [placed[2], placed[1]]
    assert page["next_cursor"]
    second = await client.get(
        "/v1/orders", params={"limit": 2, "cursor": page["next_cursor"]}, headers=CUSTOMER
    )
    assert second.status_code == 200, second.text
    assert [o["id"] for o in second.json()["items"]] == [placed[0]]
    assert second.json()["next_cursor"] is None
    everything = (await client.get("/v1/orders", headers=CUSTOMER)).json()
    assert [o["id"] for o in everything["items"]] == placed[::-1]
    assert everything["next_cursor"] is None
    other = (await client.get("/v1/orders", headers=OTHER_CUSTOMER)).json()
    assert [o["id"] for o in other["items"]] == [theirs["id"]]
    bad = await client.get("/v1/orders", params={"cursor": "not-a-cursor"}, headers=CUSTOMER)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_cursor"

    for path in (f"/v1/orders/{theirs['id']}", "/v1/orders/ord_doesnotexist"):
        hidden = await client.get(path, headers=CUSTOMER)
        assert hidden.status_code == 404, hidden.text
        assert hidden.json()["code"] == "order_not_found"
    not_mine = await client.post(f"/v1/orders/{theirs['id']}/cancel", headers=CUSTOMER)
    assert not_mine.status_code == 404, not_mine.text
    assert (await _order(client, theirs["id"], OTHER_CUSTOMER))["status"] == "AWAITING_PAYMENT"
    assert (await _order(client, theirs["id"], STAFF))["id"] == theirs["id"]
