"""`make run`'s embedded SQLite: the same migrations, the demo seed, the whole quote flow.

CI runs every other database test on PostgreSQL; this one keeps the laptop path honest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.container import build_container
from app.db.migrate import upgrade_to_head
from app.domain.access import Role
from app.main import create_app
from app.sandbox.seed import CUSTOMER_ID, seed_demo_data
from app.settings import Environment, Settings
from tests.conftest import START, TEST_SECRET, MovableClock, bearer

CUSTOMER = bearer(Role.CUSTOMER, CUSTOMER_ID)
STAFF = bearer(Role.STAFF, "staff-1")


@pytest.fixture(scope="module")
async def sqlite_client(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[httpx.AsyncClient]:
    path: Path = tmp_path_factory.mktemp("embedded") / "pec.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade_to_head, url)  # alembic runs its own event loop
    settings = Settings(
        environment=Environment.TEST,
        database_url=url,
        auth_jwt_secret=TEST_SECRET,
        log_level="WARNING",
        sandbox=True,
    )
    clock = MovableClock()
    container = build_container(settings, clock=clock)
    await seed_demo_data(container.sessionmaker, START)
    await seed_demo_data(container.sessionmaker, START)  # seeding twice changes nothing
    app = create_app(container=container)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
    ) as client:
        yield client
    await container.close()


async def test_sandbox_lists_the_demo_mailboxes_of_the_demo_customer(
    sqlite_client: httpx.AsyncClient,
) -> None:
    response = await sqlite_client.get("/v1/mailboxes", headers=CUSTOMER)

    ids = {item["id"] for item in response.json()["items"]}
    assert {"mbx-standard", "mbx-premium", "mbx-auto", "mbx-deleted"} <= ids
    assert "mbx-bianchi" not in ids
    deleted = next(i for i in response.json()["items"] if i["id"] == "mbx-deleted")
    assert [b["code"] for b in deleted["renewal_blockers"]] == ["mailbox_deleted"]


async def test_downgrade_quote_is_blocked_then_fixed_with_one_extra_gb(
    sqlite_client: httpx.AsyncClient,
) -> None:
    item = {"mailbox_id": "mbx-premium", "plan": "STANDARD"}
    blocked = await sqlite_client.post(
        "/v1/quotes", json={"years": 1, "items": [item]}, headers=CUSTOMER
    )
    fixed = await sqlite_client.post(
        "/v1/quotes",
        json={"years": 1, "items": [{**item, "extra_mailbox_gb": 1}]},
        headers={**CUSTOMER, "Idempotency-Key": "sqlite-1"},
    )
    replay = await sqlite_client.post(
        "/v1/quotes",
        json={"years": 1, "items": [{**item, "extra_mailbox_gb": 1}]},
        headers={**CUSTOMER, "Idempotency-Key": "sqlite-1"},
    )
    read_back = await sqlite_client.get(f"/v1/quotes/{fixed.json()['id']}", headers=CUSTOMER)

    assert blocked.json()["status"] == "blocked"
    assert blocked.json()["items"][0]["issues"][0]["smallest_extra_mailbox_gb"] == 1
    assert (fixed.status_code, fixed.json()["status"], fixed.json()["total"]["amount"]) == (
        201,
        "ok",
        "15.74",
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == fixed.json() == read_back.json()


async def test_mirror_creates_then_updates_and_auto_renewal_switches(
    sqlite_client: httpx.AsyncClient,
) -> None:
    body = {
        "address": "new@pec.example.it",
        "plan": "PRO",
        "expires_on": "2027-03-01",
        "account_id": CUSTOMER_ID,
        "auto_renewal": True,
    }
    created = await sqlite_client.put("/v1/admin/mailboxes/mbx-new", json=body, headers=STAFF)
    updated = await sqlite_client.put(
        "/v1/admin/mailboxes/mbx-new", json={**body, "used_mailbox_mb": 900}, headers=STAFF
    )
    switched = await sqlite_client.put(
        "/v1/mailboxes/mbx-new/auto-renewal", json={"enabled": False}, headers=CUSTOMER
    )

    assert (created.status_code, updated.status_code) == (201, 200)
    assert updated.json()["used_mailbox_mb"] == 900
    assert switched.json()["renewable"] is True


async def test_plans_are_served_with_an_etag(sqlite_client: httpx.AsyncClient) -> None:
    first = await sqlite_client.get("/v1/plans")
    again = await sqlite_client.get("/v1/plans", headers={"If-None-Match": first.headers["etag"]})

    assert [plan["code"] for plan in first.json()["plans"]] == [
        "STANDARD",
        "PRO",
        "PREMIUM",
        "DOMAIN",
    ]
    assert again.status_code == 304


async def test_the_sandbox_publishes_the_demo_file_with_a_promotion_running_today(
    sqlite_client: httpx.AsyncClient,
) -> None:
    plans = (await sqlite_client.get("/v1/plans")).json()
    published = (await sqlite_client.get("/v1/admin/price-lists", headers=STAFF)).json()

    assert [(p["plan"], p["yearly_price"]["amount"]) for p in plans["promotions"]] == [
        ("DOMAIN", "7.90")
    ]
    assert [(p["id"], p["published_by"], p["in_force"]) for p in published["items"]] == [
        ("2026-demo", "sandbox", True)
    ]


async def test_an_address_already_in_use_is_a_409_on_sqlite_too(
    sqlite_client: httpx.AsyncClient,
) -> None:
    body = {
        "address": "premium@pec.example.it",  # the demo's mbx-premium
        "plan": "STANDARD",
        "expires_on": "2027-03-01",
        "account_id": CUSTOMER_ID,
    }

    response = await sqlite_client.put("/v1/admin/mailboxes/mbx-copy", json=body, headers=STAFF)

    assert response.status_code == 409
    assert response.json()["code"] == "mailbox_address_taken"


async def test_the_demo_customer_has_a_holder_on_file_to_confirm(
    sqlite_client: httpx.AsyncClient,
) -> None:
    response = await sqlite_client.get("/v1/mailboxes/mbx-standard", headers=CUSTOMER)

    on_file = response.json()["holder_on_file"]
    assert (on_file["source"], on_file["holder"]["name"]) == ("account", "Mario Rossi")
