"""Holder and billing data on file: staff create accounts with it, mailboxes show it for
confirmation (step 10), an order may omit it, and new data an order gives becomes the
record when the order is fulfilled, the replaced record kept — over HTTP, on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.container import Container
from app.db.models import HolderVersionRow, OutboxRow
from tests.api.helpers import assert_problem, field_errors, put_mailbox
from tests.api.order_helpers import (
    COMPANY,
    PERSON,
    new_key,
    order_body,
    quote_id_for,
    send_generic,
)
from tests.conftest import CUSTOMER, PARTNER, STAFF

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

SDI = {"e_invoicing": {"sdi_code": "ABC1234"}}
LUIGI = {
    **PERSON,
    "name": "Luigi Verdi",
    "tax_code": "VRDLGU80A01H501Q",
    "email": "luigi.verdi@example.it",
}
NO_BILLING = {"e_invoicing": None, "public_administration": None}


def account_body(**changes: Any) -> dict[str, Any]:
    return {"name": "Mario Rossi", "email": "mario@example.it", "language": "it", **changes}


async def put_account(
    client: httpx.AsyncClient, account_id: str, body: dict[str, Any], status: int = 200
) -> dict[str, Any]:
    response = await client.put(f"/v1/admin/accounts/{account_id}", json=body, headers=STAFF)
    assert response.status_code == status, response.text
    result: dict[str, Any] = response.json()
    return result


async def holder_on_file(
    client: httpx.AsyncClient, mailbox_id: str, headers: dict[str, str] = CUSTOMER
) -> dict[str, Any] | None:
    response = await client.get(f"/v1/mailboxes/{mailbox_id}", headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] | None = response.json()["holder_on_file"]
    return found


async def versions(db: Container) -> list[HolderVersionRow]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(select(HolderVersionRow).order_by(HolderVersionRow.id))
        return list(rows.all())


async def confirmation_recipients(db: Container) -> list[str]:
    async with db.sessionmaker() as session:
        rows = await session.scalars(select(OutboxRow).where(OutboxRow.kind == "email"))
        return [row.payload["to"] for row in rows.all()]


async def pay_by_transfer(client: httpx.AsyncClient, order: dict[str, Any]) -> None:
    paid = await send_generic(
        client, "payment.succeeded", order["number"], order["payable"]["amount"], datetime.now(UTC)
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["outcome"] == "fulfil"


async def place(
    client: httpx.AsyncClient, quote_id: str, headers: dict[str, str] = CUSTOMER, **changes: Any
) -> dict[str, Any]:
    body = {k: v for k, v in order_body(quote_id, **changes).items() if v is not None}
    response = await client.post("/v1/orders", json=body, headers=new_key(headers))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


# --- PUT /v1/admin/accounts/{id} -------------------------------------------------------------


async def test_staff_create_an_account_with_its_holder_then_replace_it(
    client: httpx.AsyncClient,
) -> None:
    created = await put_account(
        client, "acc-new", account_body(holder=COMPANY, billing=SDI), status=201
    )
    replaced = await put_account(client, "acc-new", account_body(name="Rossi Srl", language="en"))

    assert created["holder_on_file"]["holder"]["tax_code"] == COMPANY["tax_code"]
    assert created["holder_on_file"]["billing"]["e_invoicing"]["sdi_code"] == "ABC1234"
    assert (created["updated_by"], created["updated_at"]) == ("staff-1", "2026-11-25T10:00:00Z")
    # The holder was left out of the replacement: it stays on file.
    assert (replaced["name"], replaced["language"]) == ("Rossi Srl", "en")
    assert replaced["holder_on_file"] == created["holder_on_file"]
    assert replaced["holder_history"] == []
    shown = await client.get("/v1/admin/accounts/acc-new", headers=STAFF)
    assert shown.json() == replaced


async def test_a_replaced_holder_is_kept_in_the_history(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_account(client, "acc-1", account_body(holder=PERSON))

    replaced = await put_account(client, "acc-1", account_body(holder=LUIGI))

    assert replaced["holder_on_file"]["holder"]["name"] == "Luigi Verdi"
    [old] = replaced["holder_history"]
    assert (old["holder"]["name"], old["mailbox_id"], old["replaced_by"]) == (
        "Mario Rossi",
        None,
        "staff:staff-1",
    )
    assert [row.replaced_by for row in await versions(db)] == ["staff:staff-1"]
    cleared = await put_account(client, "acc-1", account_body(holder=None))
    assert cleared["holder_on_file"] is None
    assert len(cleared["holder_history"]) == 2


async def test_concurrent_creates_of_one_account_are_one_201_and_no_version(
    client: httpx.AsyncClient, db: Container
) -> None:
    body = account_body(holder=PERSON)

    responses = await asyncio.gather(
        *(client.put("/v1/admin/accounts/acc-race", json=body, headers=STAFF) for _ in range(8))
    )

    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert await versions(db) == []  # the same holder each time: nothing replaced


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        pytest.param(
            account_body(holder={**PERSON, "tax_code": "RSSMRA85T10A562X"}),
            "holder.tax_code",
            "invalid_codice_fiscale",
            id="cf-check-digit",
        ),
        pytest.param(
            account_body(holder={**COMPANY, "tax_code": "00743110158"}, billing=SDI),
            "holder.tax_code",
            "invalid_partita_iva",
            id="piva-check-digit",
        ),
        pytest.param(
            account_body(holder={**PERSON, "name": "Mario\x00Rossi"}),
            "holder.name",
            "control_characters",
            id="nul-in-name",
        ),
        pytest.param(
            account_body(holder=COMPANY),
            "billing.e_invoicing",
            "einvoicing_identifier_required",
            id="company-without-einvoicing",
        ),
        pytest.param(account_body(billing=SDI), "holder", "holder_required", id="billing-alone"),
        pytest.param(account_body(language="fr"), "language", "invalid_value", id="language"),
        pytest.param(account_body(email="not-an-email"), "email", "invalid_format", id="email"),
    ],
)
async def test_an_invalid_account_is_refused_naming_the_field(
    client: httpx.AsyncClient, db: Container, body: dict[str, Any], field: str, code: str
) -> None:
    response = await client.put("/v1/admin/accounts/acc-new", json=body, headers=STAFF)

    problem = assert_problem(response, 422, "validation_failed")
    assert (field, code) in field_errors(problem)
    missing = await client.get("/v1/admin/accounts/acc-new", headers=STAFF)
    assert_problem(missing, 404, "account_not_found")


@pytest.mark.parametrize("headers", [CUSTOMER, PARTNER], ids=["customer", "partner"])
async def test_only_staff_may_create_or_read_accounts(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    put = await client.put("/v1/admin/accounts/acc-1", json=account_body(), headers=headers)
    get = await client.get("/v1/admin/accounts/acc-1", headers=headers)

    assert_problem(put, 403, "forbidden")
    assert_problem(get, 403, "forbidden")


# --- the holder on file of a mailbox ----------------------------------------------------------


async def test_a_mailbox_shows_its_accounts_holder_then_its_own(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1")
    assert await holder_on_file(client, "mbx-1") is None
    await put_account(client, "acc-1", account_body(holder=PERSON))

    from_account = await holder_on_file(client, "mbx-1")
    await put_mailbox(client, "mbx-1", holder=COMPANY, billing=SDI)
    own = await holder_on_file(client, "mbx-1")
    await put_mailbox(client, "mbx-1")  # the platform's next mirror doesn't know holders
    kept = await holder_on_file(client, "mbx-1")
    await put_mailbox(client, "mbx-1", holder=None)
    back_to_account = await holder_on_file(client, "mbx-1")

    assert from_account is not None
    assert (from_account["source"], from_account["holder"]["name"]) == ("account", "Mario Rossi")
    assert from_account["billing"] == NO_BILLING
    assert own is not None
    assert (own["source"], own["holder"]["name"]) == ("mailbox", "Rossi Srl")
    assert own["billing"]["e_invoicing"] == {"sdi_code": "ABC1234", "pec": None, "none": False}
    assert kept == own
    assert back_to_account == from_account


async def test_the_mailbox_list_shows_the_holder_on_file_too(client: httpx.AsyncClient) -> None:
    await put_account(client, "acc-1", account_body(holder=PERSON))
    await put_mailbox(client, "mbx-1")
    await put_mailbox(client, "mbx-2", holder=LUIGI)

    listed = (await client.get("/v1/mailboxes", headers=CUSTOMER)).json()["items"]

    assert {m["id"]: m["holder_on_file"]["holder"]["name"] for m in listed} == {
        "mbx-1": "Mario Rossi",
        "mbx-2": "Luigi Verdi",
    }


async def test_a_mirror_with_an_invalid_holder_is_refused(client: httpx.AsyncClient) -> None:
    body = {
        "address": "mbx-1@pec.example.it",
        "plan": "STANDARD",
        "expires_on": "2026-12-25",
        "account_id": "acc-1",
        "holder": {**PERSON, "tax_code": "RSSMRA85T10A562X"},
    }

    response = await client.put("/v1/admin/mailboxes/mbx-1", json=body, headers=STAFF)

    problem = assert_problem(response, 422, "validation_failed")
    assert field_errors(problem) == [("holder.tax_code", "invalid_codice_fiscale")]


# --- orders ------------------------------------------------------------------------------------


async def test_an_order_without_a_holder_uses_the_one_on_file(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_account(client, "acc-1", account_body(holder=LUIGI))
    await put_mailbox(client, "mbx-1")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])

    order = await place(client, quote_id, holder=None)

    assert (order["holder_name"], order["holder_email"]) == (
        "Luigi Verdi",
        "luigi.verdi@example.it",
    )
    assert await confirmation_recipients(db) == ["luigi.verdi@example.it"]
    await pay_by_transfer(client, order)
    assert await versions(db) == []  # confirmed, not changed: nothing replaced


async def test_a_partner_order_without_a_holder_uses_its_customers_holder(
    client: httpx.AsyncClient,
) -> None:
    await put_account(client, "acc-p", account_body(name="Anna Neri", holder=LUIGI))
    await put_mailbox(client, "mbx-p", account_id="acc-p", partner_id="ptn-1")
    quote_id = await quote_id_for(client, PARTNER, [{"mailbox_id": "mbx-p"}])

    order = await place(client, quote_id, PARTNER, method="partner_credit", holder=None)

    assert (order["status"], order["holder_name"]) == ("FULFILLED", "Luigi Verdi")


async def test_new_holder_data_in_an_order_becomes_the_record_once_fulfilled(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_account(client, "acc-1", account_body(holder=PERSON))
    await put_mailbox(client, "mbx-1")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])

    order = await place(client, quote_id, holder=COMPANY, billing=SDI)
    unpaid = await holder_on_file(client, "mbx-1")
    await pay_by_transfer(client, order)

    assert unpaid is not None
    assert unpaid["holder"]["name"] == "Mario Rossi"
    after = await holder_on_file(client, "mbx-1")
    assert after is not None
    assert (after["source"], after["holder"]["name"]) == ("account", "Rossi Srl")
    assert after["billing"]["e_invoicing"]["sdi_code"] == "ABC1234"
    [old] = await versions(db)
    assert (old.account_id, old.mailbox_id, old.replaced_by) == (
        "acc-1",
        None,
        f"order:{order['id']}",
    )
    assert old.holder is not None
    assert old.holder["name"] == "Mario Rossi"
    history = (await client.get("/v1/admin/accounts/acc-1", headers=STAFF)).json()
    assert [v["holder"]["name"] for v in history["holder_history"]] == ["Mario Rossi"]


async def test_an_order_for_a_mailbox_with_its_own_holder_updates_that_record_only(
    client: httpx.AsyncClient, db: Container
) -> None:
    await put_account(client, "acc-1", account_body(holder=PERSON))
    await put_mailbox(client, "mbx-own", holder=COMPANY, billing=SDI)
    await put_mailbox(client, "mbx-plain")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-own"}])

    order = await place(client, quote_id, holder=LUIGI)
    await pay_by_transfer(client, order)

    own = await holder_on_file(client, "mbx-own")
    plain = await holder_on_file(client, "mbx-plain")
    assert own is not None
    assert (own["source"], own["holder"]["name"]) == ("mailbox", "Luigi Verdi")
    assert plain is not None
    assert plain["holder"]["name"] == "Mario Rossi"
    [old] = await versions(db)
    assert (old.mailbox_id, old.replaced_by) == ("mbx-own", f"order:{order['id']}")


async def test_an_order_without_a_holder_and_none_on_file_needs_one(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    body = {k: v for k, v in order_body(quote_id).items() if k != "holder"}

    response = await client.post("/v1/orders", json=body, headers=new_key(CUSTOMER))

    problem = assert_problem(response, 422, "holder_required")
    assert field_errors(problem) == [("holder", "holder_required")]


async def test_mailboxes_with_different_holders_on_file_need_the_holder_given(
    client: httpx.AsyncClient,
) -> None:
    await put_account(client, "acc-1", account_body(holder=PERSON))
    await put_mailbox(client, "mbx-1")
    await put_mailbox(client, "mbx-2", holder=LUIGI)
    items = [{"mailbox_id": "mbx-1"}, {"mailbox_id": "mbx-2"}]
    quote_id = await quote_id_for(client, CUSTOMER, items)
    body = {k: v for k, v in order_body(quote_id).items() if k != "holder"}

    refused = await client.post("/v1/orders", json=body, headers=new_key(CUSTOMER))
    given = await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))

    problem = assert_problem(refused, 422, "holder_required")
    assert field_errors(problem) == [("holder", "holders_on_file_differ")]
    assert given.status_code == 201, given.text
