"""Idempotency-Key on POST /v1/quotes, who may read a quote back, and how long it is valid.

The concurrency tests are real concurrent transactions on PostgreSQL: the requests go
through one ASGI app in one event loop, each with its own database connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.container import Container
from tests.api.helpers import put_mailbox
from tests.conftest import CUSTOMER, OTHER_CUSTOMER, PARTNER, STAFF, MovableClock
from tests.shared_app import app_for

pytestmark = pytest.mark.both_quote_stores  # asyncpg and SQLAlchemy

BODY: dict[str, Any] = {"years": 2, "items": [{"mailbox_id": "mbx-1"}]}


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def quote_rows(container: Container) -> int:
    async with container.engine.connect() as connection:
        count: int = (await connection.execute(text("SELECT count(*) FROM quotes"))).scalar_one()
    return count


async def post(client: httpx.AsyncClient, body: Any, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/v1/quotes", json=body, headers=headers)


@pytest.fixture
async def mailboxes(client: httpx.AsyncClient) -> None:
    """mbx-1 and mbx-2 of the customer, mbx-b of the other customer, mbx-p of the partner."""
    await put_mailbox(client, "mbx-1", "PRO", used_mailbox_mb=100)
    await put_mailbox(client, "mbx-2", "STANDARD")
    await put_mailbox(client, "mbx-b", "PRO", account_id="acc-2")
    await put_mailbox(client, "mbx-p", "PRO", account_id="acc-p", partner_id="ptn-1")


# --- replays ------------------------------------------------------------------------------


@pytest.mark.usefixtures("mailboxes")
async def test_same_key_and_body_replays_the_first_answer(
    client: httpx.AsyncClient, db: Container
) -> None:
    first = await post(client, BODY, keyed(CUSTOMER, "key-1"))
    second = await post(client, BODY, keyed(CUSTOMER, "key-1"))

    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert await quote_rows(db) == 1


@pytest.mark.usefixtures("mailboxes")
async def test_the_replay_is_the_first_answer_even_after_things_changed(
    client: httpx.AsyncClient, db: Container, clock: MovableClock
) -> None:
    first = (await post(client, BODY, keyed(CUSTOMER, "key-1"))).json()
    # now the mailbox would be blocked, and time has moved on
    await put_mailbox(client, "mbx-1", "PRO", auto_renewal=True)
    clock.advance(timedelta(hours=2))

    replay = await post(client, BODY, keyed(CUSTOMER, "key-1"))
    fresh = await post(client, BODY, keyed(CUSTOMER, "key-2"))

    assert replay.json() == first
    assert first["status"] == "ok"
    assert fresh.json()["status"] == "blocked"
    assert fresh.json()["created_at"] != first["created_at"]
    assert await quote_rows(db) == 2


@pytest.mark.usefixtures("mailboxes")
async def test_the_same_body_spelled_differently_is_the_same_body(
    client: httpx.AsyncClient, db: Container
) -> None:
    first = await client.post(
        "/v1/quotes",
        content=b'{"years": 2, "items": [{"mailbox_id": "mbx-1"}]}',
        headers={**keyed(CUSTOMER, "key-1"), "Content-Type": "application/json"},
    )
    second = await client.post(
        "/v1/quotes",
        content=b'{ "items":[ {"mailbox_id":"mbx-1"} ],\n "years":2 }',
        headers={**keyed(CUSTOMER, "key-1"), "Content-Type": "application/json"},
    )

    assert second.headers.get("idempotent-replayed") == "true"
    assert second.json()["id"] == first.json()["id"]
    assert await quote_rows(db) == 1


@pytest.mark.parametrize(
    "other_body",
    [
        pytest.param({**BODY, "years": 3}, id="other-years"),
        pytest.param(
            {"years": 2, "items": [{"mailbox_id": "mbx-1", "plan": "PREMIUM"}]}, id="plan"
        ),
        pytest.param(
            {"years": 2, "items": [{"mailbox_id": "mbx-1", "extra_mailbox_gb": 1}]}, id="space"
        ),
        pytest.param({"years": 2, "items": [{"mailbox_id": "mbx-2"}]}, id="other-mailbox"),
        pytest.param(
            {"years": 2, "items": [{"mailbox_id": "mbx-1"}, {"mailbox_id": "mbx-2"}]},
            id="one-more-mailbox",
        ),
        pytest.param({**BODY, "signature_kit": "SMART_CARD"}, id="kit"),
        pytest.param({**BODY, "convention_code": "ORDINE-AVVOCATI"}, id="convention"),
    ],
)
@pytest.mark.usefixtures("mailboxes")
async def test_same_key_with_another_body_is_a_422(
    client: httpx.AsyncClient, db: Container, other_body: dict[str, Any]
) -> None:
    first = await post(client, BODY, keyed(CUSTOMER, "key-1"))

    reused = await post(client, other_body, keyed(CUSTOMER, "key-1"))

    assert reused.status_code == 422, reused.text
    assert reused.headers["content-type"].startswith("application/problem+json")
    problem = reused.json()
    assert problem["code"] == "idempotency_key_reused"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("Idempotency-Key", "idempotency_key_reused")
    ]
    assert await quote_rows(db) == 1
    # the key still answers its first request
    again = await post(client, BODY, keyed(CUSTOMER, "key-1"))
    assert again.json()["id"] == first.json()["id"]


@pytest.mark.usefixtures("mailboxes")
async def test_different_callers_use_the_same_key_independently(
    client: httpx.AsyncClient, db: Container
) -> None:
    mine = await post(client, BODY, keyed(CUSTOMER, "shared"))
    theirs = await post(
        client, {"years": 2, "items": [{"mailbox_id": "mbx-b"}]}, keyed(OTHER_CUSTOMER, "shared")
    )
    partners = await post(
        client, {"years": 1, "items": [{"mailbox_id": "mbx-p"}]}, keyed(PARTNER, "shared")
    )

    responses = (mine, theirs, partners)
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert all("idempotent-replayed" not in r.headers for r in responses)
    assert len({r.json()["id"] for r in responses}) == 3
    assert [r.json()["items"][0]["mailbox_id"] for r in responses] == ["mbx-1", "mbx-b", "mbx-p"]
    assert await quote_rows(db) == 3


@pytest.mark.usefixtures("mailboxes")
async def test_another_callers_key_never_replays_their_quote(
    client: httpx.AsyncClient, db: Container
) -> None:
    await post(client, BODY, keyed(CUSTOMER, "shared"))

    # the same key and the very same body, from someone who may not see mbx-1
    stolen = await post(client, BODY, keyed(OTHER_CUSTOMER, "shared"))

    assert stolen.status_code == 404
    assert stolen.json()["code"] == "mailbox_not_found"
    assert "idempotent-replayed" not in stolen.headers
    assert await quote_rows(db) == 1


@pytest.mark.usefixtures("mailboxes")
async def test_without_a_key_every_post_is_a_new_quote(
    client: httpx.AsyncClient, db: Container
) -> None:
    first = await post(client, BODY, CUSTOMER)
    second = await post(client, BODY, CUSTOMER)

    assert first.json()["id"] != second.json()["id"]
    assert await quote_rows(db) == 2


@pytest.mark.usefixtures("mailboxes")
async def test_a_failed_request_does_not_use_up_the_key(
    client: httpx.AsyncClient, db: Container
) -> None:
    body = {"years": 1, "items": [{"mailbox_id": "mbx-new"}]}
    missing = await post(client, body, keyed(CUSTOMER, "key-1"))
    await put_mailbox(client, "mbx-new", "STANDARD")

    created = await post(client, body, keyed(CUSTOMER, "key-1"))

    assert missing.status_code == 404
    assert created.status_code == 201
    assert "idempotent-replayed" not in created.headers
    assert await quote_rows(db) == 1


@pytest.mark.parametrize(
    ("key", "status"),
    [
        pytest.param("k" * 255, 201, id="255-chars"),
        pytest.param("k" * 256, 422, id="256-chars"),
    ],
)
@pytest.mark.usefixtures("mailboxes")
async def test_idempotency_key_is_at_most_255_characters(
    client: httpx.AsyncClient, db: Container, key: str, status: int
) -> None:
    response = await post(client, BODY, keyed(CUSTOMER, key))

    assert response.status_code == status, response.text
    if status == 422:
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["code"] == "validation_failed"
        assert [e["code"] for e in problem["errors"]] == ["too_long"]
        assert "Idempotency-Key" in problem["errors"][0]["field"]
        assert await quote_rows(db) == 0
    else:
        assert await quote_rows(db) == 1


# --- concurrency --------------------------------------------------------------------------


@pytest.mark.usefixtures("mailboxes")
@pytest.mark.parametrize("quoted_before", [False, True], ids=["read", "remembered"])
async def test_twenty_concurrent_identical_posts_make_one_quote(
    client: httpx.AsyncClient, db: Container, quoted_before: bool
) -> None:
    headers = keyed(CUSTOMER, "concurrent-key")
    earlier = 0
    if quoted_before:  # without a key: on PostgreSQL the api now remembers the mailbox
        assert (await post(client, BODY, CUSTOMER)).status_code == 201
        earlier = 1

    responses = await asyncio.gather(*(post(client, BODY, headers) for _ in range(20)))

    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    replayed = [r.headers.get("idempotent-replayed") for r in responses]
    assert replayed.count("true") == 19
    assert replayed.count(None) == 1
    assert await quote_rows(db) == 1 + earlier
    stored = await client.get(f"/v1/quotes/{bodies[0]['id']}", headers=CUSTOMER)
    assert stored.json() == bodies[0]


@pytest.mark.usefixtures("mailboxes")
async def test_concurrent_posts_with_one_key_and_two_bodies_make_one_quote(
    client: httpx.AsyncClient, db: Container
) -> None:
    headers = keyed(CUSTOMER, "racing-key")
    other = {**BODY, "years": 3}

    responses = await asyncio.gather(
        *(post(client, BODY if i % 2 else other, headers) for i in range(10))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [422] * 5, [r.text for r in responses]
    winners = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(winners) == 1
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {
        "idempotency_key_reused"
    }
    assert await quote_rows(db) == 1


@pytest.mark.usefixtures("mailboxes")
async def test_concurrent_posts_with_distinct_keys_make_distinct_quotes(
    client: httpx.AsyncClient, db: Container
) -> None:
    responses = await asyncio.gather(
        *(post(client, BODY, keyed(CUSTOMER, f"key-{i}")) for i in range(10))
    )

    assert [r.status_code for r in responses] == [201] * 10
    assert len({r.json()["id"] for r in responses}) == 10
    assert await quote_rows(db) == 10


# --- reading a quote back -----------------------------------------------------------------


@pytest.mark.usefixtures("mailboxes")
async def test_a_quote_is_read_back_by_its_owner_and_staff_only(
    client: httpx.AsyncClient,
) -> None:
    created = (await post(client, BODY, CUSTOMER)).json()
    path = f"/v1/quotes/{created['id']}"

    owner = await client.get(path, headers=CUSTOMER)
    staff = await client.get(path, headers=STAFF)
    other = await client.get(path, headers=OTHER_CUSTOMER)
    partner = await client.get(path, headers=PARTNER)
    unknown = await client.get("/v1/quotes/quo_does_not_exist", headers=OTHER_CUSTOMER)
    anonymous = await client.get(path)

    assert owner.status_code == staff.status_code == 200
    assert owner.json() == staff.json() == created
    for response in (other, partner):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "quote_not_found"
    # another's quote answers exactly as one that does not exist
    assert {k: v for k, v in other.json().items() if k != "instance"} == {
        k: v for k, v in unknown.json().items() if k != "instance"
    }
    assert anonymous.status_code == 401


@pytest.fixture
async def lenient_client(db: Container) -> AsyncIterator[httpx.AsyncClient]:
    """Like `client`, but an unhandled error comes back as the 500 a real client would get."""
    transport = httpx.ASGITransport(app=app_for(db), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.mark.parametrize(
    "quote_id",
    [
        pytest.param(
            "quo_%00",
            id="nul",
        ),
        pytest.param("x" * 64, id="64-chars"),
        pytest.param("%27%20OR%20%271%27%3D%271", id="sql-quote"),
        pytest.param("%C3%A9%F0%9F%93%A7", id="unicode"),
    ],
)
async def test_odd_quote_ids_are_not_found_never_a_500(
    lenient_client: httpx.AsyncClient, quote_id: str
) -> None:
    response = await lenient_client.get(f"/v1/quotes/{quote_id}", headers=CUSTOMER)

    assert response.status_code == 404, response.text
    assert response.json()["code"] == "quote_not_found"


async def test_a_quote_id_too_long_to_exist_is_simply_not_found(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"/v1/quotes/{'x' * 65}", headers=CUSTOMER)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "quote_not_found"


# --- validity -----------------------------------------------------------------------------


@pytest.mark.usefixtures("mailboxes")
async def test_a_quote_is_valid_for_24_hours_from_its_creation(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    clock.advance(timedelta(minutes=17, seconds=3))

    body = (await post(client, BODY, CUSTOMER)).json()

    created = datetime.fromisoformat(body["created_at"])
    valid_until = datetime.fromisoformat(body["valid_until"])
    assert created == clock.now
    assert created.utcoffset() == timedelta(0)
    assert valid_until - created == timedelta(hours=24)
    # the quote is kept as it was, its validity included, after it expires; only its
    # status says so now
    clock.advance(timedelta(hours=25))
    later = (await client.get(f"/v1/quotes/{body['id']}", headers=CUSTOMER)).json()
    assert later == {**body, "status": "expired"}


@pytest.mark.usefixtures("mailboxes")
async def test_a_replayed_quote_keeps_its_original_validity(
    client: httpx.AsyncClient, clock: MovableClock
) -> None:
    first = (await post(client, BODY, keyed(CUSTOMER, "key-1"))).json()
    clock.advance(timedelta(hours=3))

    replay = (await post(client, BODY, keyed(CUSTOMER, "key-1"))).json()

    assert replay["valid_until"] == first["valid_until"]
    assert datetime.fromisoformat(replay["created_at"]) == clock.now - timedelta(hours=3)
