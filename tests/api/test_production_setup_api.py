"""Acceptance: production is set up through the API alone, from an empty database.

SANDBOX off, nothing seeded: staff publish a price list, create a partner and an
account with its holder data, the mail platform mirrors mailboxes, and customers
quote, order (with the holder on file) and pay. A price list published for a later
date takes over exactly when it starts, without a restart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.container import Container
from app.db.models import AccountRow
from app.main import create_app
from tests.api.helpers import assert_problem, field_errors, put_mailbox
from tests.api.order_helpers import PERSON, new_key, order_body, quote_id_for, send_generic
from tests.conftest import CUSTOMER, STAFF, START, MovableClock, bearer

NEW_PARTNER = bearer("partner", "ptn-new")


@pytest.fixture
async def bare(empty_db: Container) -> AsyncIterator[httpx.AsyncClient]:
    assert not empty_db.settings.sandbox
    transport = httpx.ASGITransport(app=create_app(container=empty_db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def price_list(valid_from: datetime, standard: str = "9.90", **changes: Any) -> dict[str, Any]:
    """A PUT body: the demo price list's shape, with STANDARD at `standard` a year."""
    plan = {
        "mailbox_gb": 1,
        "max_mailbox_gb": 2,
        "archive_gb": 0,
        "extra_archive_allowed": False,
        "sms_reports": False,
        "extra_users": 0,
    }
    return {
        "valid_from": valid_from.isoformat(),
        "currency": "EUR",
        "vat_rate": "0.22",
        "plans": [
            {**plan, "code": "STANDARD", "name": "PEC Standard", "yearly_price": standard},
            {
                **plan,
                "code": "PRO",
                "name": "PEC Pro",
                "mailbox_gb": 2,
                "max_mailbox_gb": None,
                "archive_gb": 3,
                "extra_archive_allowed": True,
                "sms_reports": True,
                "extra_users": 1,
                "yearly_price": "25.00",
            },
        ],
        "extra_mailbox_gb_yearly_price": "3.00",
        "extra_archive_gb_yearly_price": "3.00",
        "signature_kits": [{"code": "SMART_CARD", "name": "Smart card", "price": "25.00"}],
        "kit_shipping_price": "9.90",
        "promotions": [],
        "conventions": [],
        **changes,
    }


async def publish(
    client: httpx.AsyncClient, price_list_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.put(f"/v1/admin/price-lists/{price_list_id}", json=body, headers=STAFF)


async def add_account(db: Container, account_id: str) -> None:
    """An account straight in the database, for the tests that don't walk the journey."""
    async with db.sessionmaker() as session, session.begin():
        session.add(AccountRow(id=account_id, name="Mario Rossi", email="mario@example.it"))


async def test_production_is_set_up_through_the_api_and_switches_price_list_on_time(
    bare: httpx.AsyncClient, empty_db: Container, clock: MovableClock
) -> None:
    assert_problem(await bare.get("/v1/plans"), 503, "catalog_unavailable")

    published = await publish(bare, "2026-11", price_list(START - timedelta(days=1)))
    assert published.status_code == 201, published.text
    assert (published.json()["published_by"], published.json()["in_force"]) == ("staff-1", True)
    plans = (await bare.get("/v1/plans")).json()
    assert plans["id"] == "2026-11"
    assert [p["yearly_price"]["amount"] for p in plans["plans"]] == ["9.90", "25.00"]

    partner = await bare.put(
        "/v1/admin/partners/ptn-new",
        json={
            "name": "Web Reseller Srl",
            "email": "admin@reseller.example.it",
            "language": "it",
            "low_credit_threshold": "50.00",
        },
        headers=STAFF,
    )
    assert partner.status_code == 201, partner.text
    assert partner.json()["credit"] == {"amount": "0.00", "currency": "EUR"}

    account = await bare.put(
        "/v1/admin/accounts/acc-1",
        json={
            "name": "Mario Rossi",
            "email": "mario@example.it",
            "language": "it",
            "holder": PERSON,
        },
        headers=STAFF,
    )
    assert account.status_code == 201, account.text
    await put_mailbox(bare, "mbx-1", "STANDARD", expires_on=date(2027, 1, 10))
    await put_mailbox(bare, "mbx-2", "STANDARD", account_id="acc-1", partner_id="ptn-new")
    shown = (await bare.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert shown["holder_on_file"]["holder"]["tax_code"] == PERSON["tax_code"]

    quote_id = await quote_id_for(bare, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    on_file = {k: v for k, v in order_body(quote_id).items() if k != "holder"}
    placed = await bare.post("/v1/orders", json=on_file, headers=new_key(CUSTOMER))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["payable"]["amount"], order["holder_name"]) == ("12.08", PERSON["name"])
    paid = await send_generic(
        bare, "payment.succeeded", order["number"], "12.08", datetime.now(UTC)
    )
    assert paid.json()["outcome"] == "fulfil", paid.text
    mailbox = (await bare.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).json()
    assert mailbox["expires_on"] == "2028-01-10"

    switch = START + timedelta(minutes=30)  # well inside the cache's hour
    future = await publish(bare, "2026-12", price_list(switch, standard="12.00"))
    assert future.status_code == 201, future.text
    assert future.json()["in_force"] is False
    assert (await bare.get("/v1/plans")).json()["id"] == "2026-11"

    clock.now = switch - timedelta(minutes=1)
    old_quote = await quote_id_for(bare, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    clock.now = switch + timedelta(minutes=1)

    assert (await bare.get("/v1/plans")).json()["id"] == "2026-12"
    new_quote = await bare.post(
        "/v1/quotes", json={"years": 1, "items": [{"mailbox_id": "mbx-1"}]}, headers=CUSTOMER
    )
    assert (new_quote.json()["price_list_id"], new_quote.json()["total"]["amount"]) == (
        "2026-12",
        "14.64",
    )
    late = await bare.post("/v1/orders", json=order_body(old_quote), headers=new_key(CUSTOMER))
    assert late.status_code == 201, late.text
    assert late.json()["payable"]["amount"] == "12.08"


async def test_a_price_list_in_force_is_never_replaced(bare: httpx.AsyncClient) -> None:
    body = price_list(START - timedelta(days=1))
    await publish(bare, "2026-11", body)

    changed = await publish(bare, "2026-11", {**body, "vat_rate": "0.10"})
    same = await publish(bare, "2026-11", body)

    assert_problem(changed, 409, "price_list_in_force")
    assert same.status_code == 200  # the same PUT again: nothing to change
    assert (await bare.get("/v1/plans")).json()["vat_rate"] == "0.22"


async def test_a_price_list_not_yet_in_force_can_be_replaced(
    bare: httpx.AsyncClient, clock: MovableClock
) -> None:
    await publish(bare, "2026-11", price_list(START - timedelta(days=1)))
    await publish(bare, "2027-01", price_list(START + timedelta(days=30), standard="11.00"))

    replaced = await publish(
        bare, "2027-01", price_list(START + timedelta(days=40), standard="12.00")
    )
    listed = await bare.get("/v1/admin/price-lists", headers=STAFF)

    assert replaced.status_code == 200, replaced.text
    assert [(p["id"], p["valid_from"], p["in_force"]) for p in listed.json()["items"]] == [
        ("2027-01", "2027-01-04T10:00:00Z", False),
        ("2026-11", "2026-11-24T10:00:00Z", True),
    ]
    clock.now = START + timedelta(days=40)
    plans = (await bare.get("/v1/plans")).json()
    assert (plans["id"], plans["plans"][0]["yearly_price"]["amount"]) == ("2027-01", "12.00")


async def test_an_invalid_price_list_names_the_offending_fields(bare: httpx.AsyncClient) -> None:
    body = price_list(START)
    body["plans"][1]["max_mailbox_gb"] = 1  # below its 2 GB
    body["promotions"] = [
        {"plan": "PRO", "yearly_price": "20.00", "valid_from": "2026-12-01",
         "valid_until": "2026-12-31", "max_years": 2},
        {"plan": "PRO", "yearly_price": "19.00", "valid_from": "2026-12-15",
         "valid_until": "2027-01-15", "max_years": 2},
    ]  # fmt: skip

    problem = assert_problem(await publish(bare, "2026-11", body), 422, "validation_failed")

    assert field_errors(problem) == [
        ("plans[1].max_mailbox_gb", "max_below_base"),
        ("promotions[1].valid_from", "overlapping_dates"),
    ]
    assert_problem(await bare.get("/v1/plans"), 503, "catalog_unavailable")


async def test_an_amount_beyond_the_bound_is_refused(bare: httpx.AsyncClient) -> None:
    body = price_list(START, standard="10000000.00")

    problem = assert_problem(await publish(bare, "2026-11", body), 422, "validation_failed")

    assert field_errors(problem) == [("plans[0].yearly_price", "invalid_format")]


async def test_updating_a_partner_keeps_its_credit(bare: httpx.AsyncClient) -> None:
    partner = {"name": "Reseller", "email": "a@reseller.example.it", "language": "it",
               "low_credit_threshold": "0.00"}  # fmt: skip
    await bare.put("/v1/admin/partners/ptn-new", json=partner, headers=STAFF)
    await bare.post(
        "/v1/admin/partners/ptn-new/credit",
        json={"amount": "80.00"},
        headers={**STAFF, "Idempotency-Key": "t-1"},
    )

    updated = await bare.put(
        "/v1/admin/partners/ptn-new",
        json={**partner, "name": "Reseller Srl", "low_credit_threshold": "25.00"},
        headers=bearer("staff", "staff-2"),
    )

    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["name"], body["credit"]["amount"], body["low_credit_threshold"]["amount"]) == (
        "Reseller Srl",
        "80.00",
        "25.00",
    )
    assert (body["updated_by"], body["updated_at"]) == ("staff-2", "2026-11-25T10:00:00Z")


async def test_a_partner_cannot_set_its_credit(bare: httpx.AsyncClient) -> None:
    partner = {"name": "Reseller", "email": "a@reseller.example.it", "language": "it",
               "low_credit_threshold": "0.00", "credit": "1000.00"}  # fmt: skip

    response = await bare.put("/v1/admin/partners/ptn-new", json=partner, headers=STAFF)

    assert field_errors(assert_problem(response, 422, "validation_failed")) == [
        ("credit", "unknown_field")
    ]


async def test_a_partner_reads_its_credit_and_ledger(bare: httpx.AsyncClient) -> None:
    partner = {"name": "Reseller", "email": "a@reseller.example.it", "language": "en",
               "low_credit_threshold": "20.00"}  # fmt: skip
    await bare.put("/v1/admin/partners/ptn-new", json=partner, headers=STAFF)
    for key, amount in (("t-1", "100.00"), ("t-2", "30.00")):
        await bare.post(
            "/v1/admin/partners/ptn-new/credit",
            json={"amount": amount},
            headers={**STAFF, "Idempotency-Key": key},
        )

    first = (await bare.get("/v1/partner/credit?limit=1", headers=NEW_PARTNER)).json()
    second = (
        await bare.get(
            f"/v1/partner/credit?limit=1&cursor={first['next_cursor']}", headers=NEW_PARTNER
        )
    ).json()

    assert first["balance"] == {"amount": "130.00", "currency": "EUR"}
    assert first["low_credit_threshold"] == {"amount": "20.00", "currency": "EUR"}
    assert [(m["kind"], m["amount"]["amount"], m["balance_after"]["amount"]) for m in
            first["items"] + second["items"]] == [
        ("top_up", "30.00", "130.00"),
        ("top_up", "100.00", "100.00"),
    ]  # fmt: skip
    assert second["next_cursor"] is None
    bad = await bare.get("/v1/partner/credit?cursor=not-a-cursor", headers=NEW_PARTNER)
    assert field_errors(assert_problem(bad, 422, "invalid_cursor")) == [
        ("cursor", "invalid_cursor")
    ]


async def test_a_customer_may_not_read_partner_credit_nor_set_up(bare: httpx.AsyncClient) -> None:
    assert_problem(await bare.get("/v1/partner/credit", headers=CUSTOMER), 403, "forbidden")
    assert_problem(await bare.get("/v1/partner/credit", headers=STAFF), 403, "forbidden")
    denied = await bare.put(
        "/v1/admin/price-lists/2026-11", json=price_list(START), headers=CUSTOMER
    )
    assert_problem(denied, 403, "forbidden")
    assert_problem(await bare.get("/v1/admin/price-lists", headers=CUSTOMER), 403, "forbidden")
    partner = {"name": "X", "email": "x@example.it", "language": "it",
               "low_credit_threshold": "0.00"}  # fmt: skip
    denied = await bare.put("/v1/admin/partners/ptn-x", json=partner, headers=CUSTOMER)
    assert_problem(denied, 403, "forbidden")


async def test_a_mirror_naming_an_unknown_owner_says_how_to_create_it(
    bare: httpx.AsyncClient,
) -> None:
    await publish(bare, "2026-11", price_list(START - timedelta(days=1)))
    body = {"address": "x@pec.example.it", "plan": "STANDARD", "expires_on": "2027-01-10",
            "account_id": "acc-nobody"}  # fmt: skip

    response = await bare.put("/v1/admin/mailboxes/mbx-1", json=body, headers=STAFF)

    problem = assert_problem(response, 422, "unknown_owner")
    assert problem["create_with"] == "PUT /v1/admin/accounts/acc-nobody"
    assert "PUT /v1/admin/accounts/acc-nobody" in problem["detail"]
