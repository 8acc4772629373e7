"""A partner's renewal mode over HTTP, its credit statement as CSV, and the partner told
of every renewal of a mailbox it manages."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from app.services.mailbox_lifecycle import sweep_mailbox_lifecycle
from tests.api.helpers import assert_problem, field_errors, put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for
from tests.conftest import CUSTOMER, PARTNER, bearer

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

URL = "/v1/partner/mailboxes/{}/renewal-mode"
OTHER_PARTNER = bearer("partner", "ptn-2")


async def _partner_mailbox(client: httpx.AsyncClient, mailbox_id: str = "mbx-p") -> None:
    await put_mailbox(
        client,
        mailbox_id,
        "STANDARD",
        account_id="acc-p",
        partner_id="ptn-1",
        expires_on=date(2026, 12, 20),
    )


async def test_a_partner_turns_tacit_renewal_on_and_sees_it_on_the_mailbox(
    client: httpx.AsyncClient,
) -> None:
    await _partner_mailbox(client)

    before = await client.get(URL.format("mbx-p"), headers=PARTNER)
    changed = await client.put(
        URL.format("mbx-p"), json={"mode": "tacit", "years": 2}, headers=PARTNER
    )
    shown = await client.get("/v1/mailboxes/mbx-p", headers=PARTNER)
    to_customer = await client.get("/v1/mailboxes/mbx-p", headers=bearer("customer", "acc-p"))

    assert before.json()["mode"] == "at_expiry"
    assert before.json()["years"] == 1
    assert before.json()["updated_at"] is None
    assert changed.status_code == 200, changed.text
    assert changed.json()["mode"] == "tacit"
    assert changed.json()["years"] == 2
    assert changed.json()["next_attempt_on"] == "2026-12-13"  # 7 days before expiry
    assert shown.json()["renewal_mode"] == changed.json()
    assert "renewal_mode" not in to_customer.json()
    listed = await client.get("/v1/mailboxes", headers=PARTNER)
    assert [m["renewal_mode"]["mode"] for m in listed.json()["items"]] == ["tacit"]
    # years left out: unchanged
    back = await client.put(URL.format("mbx-p"), json={"mode": "at_expiry"}, headers=PARTNER)
    assert (back.json()["mode"], back.json()["years"]) == ("at_expiry", 2)


async def test_only_the_managing_partner_reads_or_sets_the_mode(client: httpx.AsyncClient) -> None:
    await _partner_mailbox(client)
    await put_mailbox(client, "mbx-own", "STANDARD")  # acc-1's, no partner

    for headers, mailbox_id in ((OTHER_PARTNER, "mbx-p"), (PARTNER, "mbx-own")):
        got = await client.get(URL.format(mailbox_id), headers=headers)
        put = await client.put(URL.format(mailbox_id), json={"mode": "tacit"}, headers=headers)
        assert_problem(got, 404, "mailbox_not_found")
        assert_problem(put, 404, "mailbox_not_found")
    denied = await client.put(URL.format("mbx-own"), json={"mode": "tacit"}, headers=CUSTOMER)
    assert_problem(denied, 403, "forbidden")


async def test_years_and_mode_are_validated(client: httpx.AsyncClient) -> None:
    await _partner_mailbox(client)

    too_many = await client.put(
        URL.format("mbx-p"), json={"mode": "tacit", "years": 6}, headers=PARTNER
    )
    unknown = await client.put(URL.format("mbx-p"), json={"mode": "always"}, headers=PARTNER)

    problem = assert_problem(too_many, 422, "validation_failed")
    assert field_errors(problem) == [("years", "frequency_not_allowed")]
    assert field_errors(assert_problem(unknown, 422, "validation_failed")) == [
        ("mode", "invalid_value")
    ]


async def test_a_partner_order_tells_the_partner_the_renewal_is_complete(
    client: httpx.AsyncClient, db: Container
) -> None:
    await _partner_mailbox(client)
    quote_id = await quote_id_for(client, PARTNER, [{"mailbox_id": "mbx-p"}])

    placed = await client.post(
        "/v1/orders", json=order_body(quote_id, "partner_credit"), headers=new_key(PARTNER)
    )

    async with db.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT payload FROM outbox WHERE kind = 'partner_webhook'")
        )
        events = [r.payload for r in rows]
    assert [(e["type"], e["data"]["order_id"], e["data"]["mailbox_id"]) for e in events] == [
        ("renewal.completed", placed.json()["id"], "mbx-p")
    ]
    assert events[0]["data"]["expires_on"] == "2027-12-20"


async def test_the_statement_downloads_as_csv_and_sums_to_the_balance(
    client: httpx.AsyncClient,
) -> None:
    await _partner_mailbox(client)
    quote_id = await quote_id_for(client, PARTNER, [{"mailbox_id": "mbx-p"}])
    await client.post(
        "/v1/orders", json=order_body(quote_id, "partner_credit"), headers=new_key(PARTNER)
    )

    by_query = await client.get("/v1/partner/credit/statement?format=csv", headers=PARTNER)
    by_accept = await client.get(
        "/v1/partner/credit/statement", headers={**PARTNER, "Accept": "text/csv"}
    )
    as_json = await client.get("/v1/partner/credit/statement?limit=1", headers=PARTNER)

    assert by_query.status_code == 200, by_query.text
    assert by_query.headers["content-type"].startswith("text/csv")
    assert "attachment" in by_query.headers["content-disposition"]
    assert by_accept.text == by_query.text
    rows = list(csv.DictReader(io.StringIO(by_query.text)))
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in rows] == [
        ("top_up", "100.00", "100.00"),
        ("order", "-12.08", "87.92"),
    ]
    assert sum(Decimal(r["amount"]) for r in rows) == Decimal("87.92")
    body = as_json.json()
    assert body["balance"] == {"amount": "87.92", "currency": "EUR"}
    assert [i["kind"] for i in body["items"]] == ["order"]
    assert body["next_cursor"] is not None
    denied = await client.get("/v1/partner/credit/statement?format=csv", headers=CUSTOMER)
    assert_problem(denied, 403, "forbidden")


async def test_a_tacit_mailbox_gets_no_reminder_before_expiry_its_neighbour_does(
    client: httpx.AsyncClient, db: Container
) -> None:
    await _partner_mailbox(client, "mbx-tacit")
    await _partner_mailbox(client, "mbx-by-hand")
    changed = await client.put(
        URL.format("mbx-tacit"), json={"mode": "tacit", "years": 1}, headers=PARTNER
    )
    assert changed.status_code == 200, changed.text

    # 2026-11-25 is 25 days before their expiry: the 30-day reminder is due
    await sweep_mailbox_lifecycle(db.unit_of_work, db.clock())

    async with db.engine.connect() as connection:
        reached = (
            await connection.execute(text("SELECT mailbox_id, milestone FROM mailbox_milestones"))
        ).all()
    assert [tuple(row) for row in reached] == [("mbx-by-hand", "lifecycle_reminder_-30")]
