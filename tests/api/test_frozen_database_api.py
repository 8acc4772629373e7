"""A database that stops answering (hung, or cut off without a reset) costs callers a few
seconds and a 503 to retry, never a hang; when it answers again the same process serves
again, with no restart and no failures left over from the frozen period.

The database sits behind tests/frozen_proxy.py, which can freeze every connection.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.adapters.webhook_signing import generic_payment, generic_signed
from app.container import Container, build_container
from app.main import create_app
from app.services.outbox_delivery import Deliverers
from app.settings import DEV_GENERIC_SECRET
from app.worker import run_once
from tests.api.helpers import TODAY, put_mailbox
from tests.conftest import CUSTOMER, STAFF, MovableClock
from tests.frozen_proxy import FrozenProxy

pytestmark = pytest.mark.both_units_of_work  # the lean unit of work and SQLAlchemy's

if TYPE_CHECKING:
    from tests.database import TestDatabase

TIMEOUT = 1.0  # statement, pool-acquire and connect timeouts of the app under test
PROMPT = 3.0  # a frozen database must cost a caller no more than this
POOL_SIZE = 2


@dataclasses.dataclass
class Frozen:
    proxy: FrozenProxy
    container: Container
    http: httpx.AsyncClient


@pytest.fixture
async def frozen(
    db: Container, client: httpx.AsyncClient, clock: MovableClock, test_database: TestDatabase
) -> AsyncIterator[Frozen]:
    """An app whose database is reached through a proxy that can freeze; mbx-1 is acc-1's."""
    if test_database.kind != "postgresql":
        pytest.skip("the frozen-database tests need PostgreSQL")
    # Through the direct connection, not the proxy; expiring far enough ahead that no
    # time-driven step (a reminder) is due: the worker test expects an idle pass.
    await put_mailbox(client, "mbx-1", expires_on=TODAY + timedelta(days=200))
    server = make_url(test_database.url)
    proxy = FrozenProxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.start()
    url = server.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = db.settings.model_copy(
        update={
            "database_url": url,
            "database_pool_size": POOL_SIZE,
            "database_statement_timeout_seconds": TIMEOUT,
            "database_pool_timeout_seconds": TIMEOUT,
            "database_connect_timeout_seconds": TIMEOUT,
            "log_level": "CRITICAL",
        }
    )
    container = build_container(settings, clock=clock)
    transport = httpx.ASGITransport(app=create_app(container=container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield Frozen(proxy, container, http)
    finally:
        proxy.resume()
        await container.close()
        await proxy.close()


Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def list_mailboxes(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/v1/mailboxes", headers=CUSTOMER)


async def ask_quote(http: httpx.AsyncClient) -> httpx.Response:
    """On PostgreSQL quotes go through asyncpg directly, not through the ORM."""
    body = {"years": 1, "items": [{"mailbox_id": "mbx-1"}]}
    return await http.post("/v1/quotes", json=body, headers=CUSTOMER)


async def list_orders(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/v1/orders", headers=CUSTOMER)


async def mirror_mailbox(http: httpx.AsyncClient, mailbox_id: str = "mbx-9") -> httpx.Response:
    body = {"address": f"{mailbox_id}@pec.example.it", "plan": "STANDARD"}
    body |= {"expires_on": "2027-01-10", "account_id": "acc-1"}
    return await http.put(f"/v1/admin/mailboxes/{mailbox_id}", json=body, headers=STAFF)


async def payment_webhook(http: httpx.AsyncClient) -> httpx.Response:
    payment = generic_payment("payment.succeeded", "PEC-UNKNOWN", "10.00", "EUR")
    event_id = f"msg_{uuid.uuid4().hex}"
    body, headers = generic_signed(payment, DEV_GENERIC_SECRET, datetime.now(UTC), event_id)
    return await http.post("/v1/webhooks/payments/generic", content=body, headers=headers)


async def readiness(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/readyz")


CALLS = [
    pytest.param(list_mailboxes, id="mailboxes"),
    pytest.param(ask_quote, id="quotes-asyncpg"),
    pytest.param(list_orders, id="orders"),
    pytest.param(mirror_mailbox, id="admin"),
    pytest.param(payment_webhook, id="webhooks"),
]


async def timed(call: Call, http: httpx.AsyncClient) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    # The bound only keeps a hanging request from hanging the suite; the assertions
    # on the elapsed time are what the test is about.
    response = await asyncio.wait_for(call(http), timeout=30)
    return response, time.monotonic() - started


def assert_retryable_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "database_unavailable"
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize("call", CALLS)
async def test_a_frozen_database_is_a_prompt_503_and_the_thaw_needs_no_restart(
    frozen: Frozen, call: Call
) -> None:
    before = await call(frozen.http)
    assert before.status_code < 300, before.text

    frozen.proxy.pause()
    during, elapsed = await timed(call, frozen.http)
    assert_retryable_503(during)
    assert elapsed < PROMPT

    frozen.proxy.resume()
    after = await call(frozen.http)
    assert after.status_code < 300, after.text


async def test_readyz_answers_503_within_two_seconds_while_frozen(frozen: Frozen) -> None:
    assert (await readiness(frozen.http)).status_code == 200

    frozen.proxy.pause()
    during, elapsed = await timed(readiness, frozen.http)
    assert during.status_code == 503
    assert during.json()["code"] == "database_unavailable"
    assert elapsed < 2.0

    frozen.proxy.resume()
    assert (await readiness(frozen.http)).status_code == 200


async def test_a_crowd_during_the_freeze_leaves_no_stale_connection_behind(
    frozen: Frozen,
) -> None:
    """More callers than pooled connections: some wait for the pool, some for the database;
    all get their 503 promptly, and after the thaw not one request fails."""
    await asyncio.gather(*(call(frozen.http) for call in (list_mailboxes, ask_quote)))

    frozen.proxy.pause()
    started = time.monotonic()
    crowd = [list_mailboxes, ask_quote, list_orders] * POOL_SIZE * 2
    during = await asyncio.wait_for(
        asyncio.gather(*(call(frozen.http) for call in crowd)), timeout=30
    )
    elapsed = time.monotonic() - started
    for response in during:
        assert_retryable_503(response)
    assert elapsed < PROMPT + TIMEOUT  # the last in line waited for the pool first

    frozen.proxy.resume()
    for call in [list_mailboxes, ask_quote, list_orders] * POOL_SIZE * 2:
        response = await call(frozen.http)
        assert response.status_code < 300, response.text


async def test_a_statement_stuck_behind_a_lock_is_cancelled_by_the_server_as_a_503(
    db: Container, frozen: Frozen
) -> None:
    """PostgreSQL's own statement_timeout: the statement is cancelled, the caller may retry,
    and the connection it ran on stays good."""
    async with db.engine.connect() as other:  # another transaction holds the mailbox's row
        await other.execute(text("SELECT id FROM mailboxes WHERE id = 'mbx-1' FOR UPDATE"))
        started = time.monotonic()
        stuck = await asyncio.wait_for(mirror_mailbox(frozen.http, "mbx-1"), timeout=30)
        elapsed = time.monotonic() - started
        await other.rollback()

    assert_retryable_503(stuck)
    assert elapsed < PROMPT
    assert (await mirror_mailbox(frozen.http, "mbx-1")).status_code == 200


async def test_the_worker_gives_up_its_pass_promptly_and_resumes_after_the_thaw(
    frozen: Frozen,
) -> None:
    senders = Deliverers(email=_not_called, mail_platform=_not_called)
    assert await run_once(frozen.container, senders) == 0

    frozen.proxy.pause()
    started = time.monotonic()
    with pytest.raises(TimeoutError):  # the driver's, after TIMEOUT (the loop logs it, retries)
        await asyncio.wait_for(run_once(frozen.container, senders), timeout=30)
    assert time.monotonic() - started < PROMPT  # not wait_for's, after 30 s

    frozen.proxy.resume()
    assert await run_once(frozen.container, senders) == 0


async def _not_called(_key: str, _payload: dict[str, object]) -> None:
    raise AssertionError("nothing is due: the worker should deliver nothing")


async def test_shutdown_does_not_wait_for_a_frozen_database(frozen: Frozen) -> None:
    await asyncio.gather(list_mailboxes(frozen.http), ask_quote(frozen.http))  # pooled: 2

    frozen.proxy.pause()
    started = time.monotonic()
    await asyncio.wait_for(frozen.container.close(), timeout=30)
    assert time.monotonic() - started < PROMPT
