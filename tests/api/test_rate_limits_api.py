"""Rate limits as a client meets them: 429 problem+json with Retry-After and the RateLimit
headers, per caller, per payment provider and per address that fails to authenticate; on
this process's counters and on Redis's."""

from __future__ import annotations

import asyncio
import math
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from limits import parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from pydantic import ValidationError

from app.auth import issue_dev_token
from app.container import Container
from app.domain.access import Role
from app.settings import Settings
from tests.api.helpers import put_mailbox
from tests.conftest import CUSTOMER, OTHER_CUSTOMER, TEST_SECRET
from tests.rate_limit_fixtures import REDIS_TEST_URL, limited_client, redis_prefix

__all__ = ["redis_prefix"]  # a fixture

JSON = {"Content-Type": "application/json"}
RATE_LIMIT = re.compile(r'^"(?P<name>[a-z_]+/\d+s)";r=(?P<r>\d+);t=(?P<t>\d+)$')


@pytest.fixture(params=["in_process", "redis"])
async def store(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The settings that choose the counters: this process's, or Redis's."""
    if request.param == "in_process":
        # This process's windows are aligned on the clock: a test's few requests must
        # not straddle a minute's end, where its counts would pass to a window that
        # weighs them less (Redis's windows start at the first hit).
        to_minute_end = 60 - time.time() % 60
        if to_minute_end < 2:
            await asyncio.sleep(to_minute_end + 0.01)
        return {"redis_url": None}
    prefix = request.getfixturevalue("redis_prefix")
    return {"redis_url": REDIS_TEST_URL, "rate_limit_key_prefix": prefix}


@pytest.fixture
async def mailboxes(client: httpx.AsyncClient) -> None:
    await put_mailbox(client, "mbx-1", account_id="acc-1")
    await put_mailbox(client, "mbx-2", account_id="acc-2")


def quote_body(mailbox_id: str) -> dict[str, object]:
    return {"years": 1, "items": [{"mailbox_id": mailbox_id}]}


def assert_refused(response: httpx.Response, policy: str) -> None:
    """The 429 a client can act on: problem+json, Retry-After, RateLimit at zero."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "rate_limited"
    assert problem["status"] == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert str(retry_after) in problem["detail"]
    assert policy in response.headers["ratelimit-policy"]
    state = RATE_LIMIT.match(response.headers["ratelimit"])
    assert state is not None, response.headers["ratelimit"]
    assert state["r"] == "0"
    assert int(state["t"]) == retry_after


async def test_a_caller_over_its_quote_limit_is_refused_and_others_are_not(
    db: Container, mailboxes: None, store: dict[str, Any]
) -> None:
    async with limited_client(db, rate_limit_quotes="3/minute", **store) as api:
        answers = [
            await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=CUSTOMER)
            for _ in range(3)
        ]
        refused = await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=CUSTOMER)
        other = await api.post("/v1/quotes", json=quote_body("mbx-2"), headers=OTHER_CUSTOMER)

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert [a.headers["ratelimit-policy"] for a in answers] == ['"quotes/60s";q=3;w=60'] * 3
    remaining = [RATE_LIMIT.match(a.headers["ratelimit"]) for a in answers]
    assert [m["r"] for m in remaining if m] == ["2", "1", "0"]
    assert_refused(refused, '"quotes/60s";q=3;w=60')
    assert other.status_code == 201
    assert RATE_LIMIT.match(other.headers["ratelimit"])["r"] == "2"  # type: ignore[index]


async def test_the_budget_is_the_callers_not_the_token_strings(
    db: Container, mailboxes: None, store: dict[str, Any]
) -> None:
    refreshed = issue_dev_token(
        TEST_SECRET, Role.CUSTOMER, "acc-1", now=datetime.now(UTC) - timedelta(seconds=5)
    )
    async with limited_client(db, rate_limit_quotes="2/minute", **store) as api:
        first = await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=CUSTOMER)
        second = await api.post(
            "/v1/quotes",
            json=quote_body("mbx-1"),
            headers={"Authorization": f"Bearer {refreshed}"},
        )
        third = await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=CUSTOMER)

    assert (first.status_code, second.status_code) == (201, 201)
    assert_refused(third, "quotes/60s")


async def test_a_token_that_expires_between_two_requests_is_refused_the_second_time(
    db: Container, mailboxes: None
) -> None:
    # The limiter remembers a verified Authorization header, and with it when it expires.
    issued = datetime.now(UTC)
    short_lived = issue_dev_token(
        TEST_SECRET, Role.CUSTOMER, "acc-1", now=issued, ttl=timedelta(seconds=2)
    )
    headers = {"Authorization": f"Bearer {short_lived}"}
    async with limited_client(db, rate_limit_quotes="100/minute", redis_url=None) as api:
        first = await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=headers)
        expires_at = math.floor((issued + timedelta(seconds=2)).timestamp())
        await asyncio.sleep(max(0.0, expires_at - time.time()) + 0.05)
        second = await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=headers)

    assert first.status_code == 201, first.text
    assert second.status_code == 401
    assert second.json()["code"] == "token_expired"
    assert "ratelimit" not in second.headers  # no caller, no budget drawn


async def test_every_window_of_a_limit_holds(
    db: Container, mailboxes: None, store: dict[str, Any]
) -> None:
    async with limited_client(db, rate_limit_quotes="100/minute;2/hour", **store) as api:
        started = time.time()
        answers = [
            await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=CUSTOMER)
            for _ in range(3)
        ]
        ended = time.time()

    assert [a.status_code for a in answers] == [201, 201, 429]
    policy = answers[0].headers["ratelimit-policy"]
    assert policy == '"quotes/60s";q=100;w=60, "quotes/3600s";q=2;w=3600'
    assert answers[1].headers["ratelimit"].startswith('"quotes/3600s";r=0;')
    # The full hour window frees when it ends. As in `limits`' own storages, this
    # process's windows are aligned on the clock (near an hour's end the wait is under a
    # minute, and still the hour's), Redis's start at the first hit.
    if store["redis_url"] is None:
        earliest, latest = 3600 - ended % 3600, 3600 - started % 3600
    else:
        earliest, latest = 3600 - (ended - started), 3600.0
    retry_after = int(answers[2].headers["retry-after"])
    assert math.ceil(earliest) <= retry_after <= math.ceil(latest + 0.001)


async def test_orders_are_limited_per_caller(db: Container, store: dict[str, Any]) -> None:
    order = {"quote_id": "q_missing", "payment_method": "bank_transfer"}
    async with limited_client(db, rate_limit_orders="2/minute", **store) as api:
        answers = [
            await api.post(
                "/v1/orders", json=order, headers={**CUSTOMER, "Idempotency-Key": f"k-{i}"}
            )
            for i in range(3)
        ]
        other = await api.post(
            "/v1/orders", json=order, headers={**OTHER_CUSTOMER, "Idempotency-Key": "k-0"}
        )
        reads = await api.get("/v1/orders", headers=CUSTOMER)  # only placing is limited

    assert [a.status_code for a in answers[:2]] == [422, 422]  # counted, whatever the answer
    assert "ratelimit" in answers[0].headers
    assert_refused(answers[2], '"orders/60s";q=2;w=60')
    assert other.status_code == 422
    assert reads.status_code == 200
    assert "ratelimit" not in reads.headers


async def test_sandbox_endpoints_are_limited_per_caller(
    db: Container, store: dict[str, Any]
) -> None:
    async with limited_client(db, rate_limit_sandbox="2/minute", **store) as api:
        answers = [await api.get("/v1/sandbox/clock", headers=CUSTOMER) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [404, 404]  # sandbox_only outside it
    assert_refused(answers[2], '"sandbox/60s";q=2;w=60')


async def test_payment_webhooks_are_limited_per_provider(
    db: Container, store: dict[str, Any]
) -> None:
    event = b'{"id": "evt_1", "type": "payment_intent.succeeded"}'
    async with limited_client(db, rate_limit_webhooks="2/minute", **store) as api:
        stripe = [
            await api.post("/v1/webhooks/payments/stripe", content=event, headers=JSON)
            for _ in range(3)
        ]
        generic = await api.post("/v1/webhooks/payments/generic", content=event, headers=JSON)
        unknown = await api.post("/v1/webhooks/payments/paypal", content=event, headers=JSON)

    assert [a.status_code for a in stripe[:2]] == [400, 400]  # unsigned: invalid_signature
    assert_refused(stripe[2], '"webhooks/60s";q=2;w=60')
    assert generic.status_code == 400
    assert unknown.status_code == 404


async def test_an_address_failing_to_authenticate_is_blocked_before_its_tokens_are_checked(
    db: Container, store: dict[str, Any]
) -> None:
    known = issue_dev_token(TEST_SECRET, Role.CUSTOMER, "acc-1")
    fresh = issue_dev_token(TEST_SECRET, Role.CUSTOMER, "acc-2")
    bad = {"Authorization": "Bearer not-a-jwt"}
    async with limited_client(db, rate_limit_failed_auth="3/minute", **store) as api:
        before = await api.get("/v1/orders", headers={"Authorization": f"Bearer {known}"})
        failures = [await api.get("/v1/orders", headers=bad) for _ in range(3)]
        blocked = await api.get("/v1/orders", headers=bad)
        good_but_new = await api.get("/v1/orders", headers={"Authorization": f"Bearer {fresh}"})
        already_known = await api.get("/v1/orders", headers={"Authorization": f"Bearer {known}"})
        no_token = await api.get("/v1/orders")
    async with limited_client(
        db, address="198.51.100.9", rate_limit_failed_auth="3/minute", **store
    ) as elsewhere:
        # another process would have its own verified tokens, but share the count
        other_address = await elsewhere.get("/v1/orders", headers=bad)

    assert before.status_code == 200
    assert [f.status_code for f in failures] == [401, 401, 401]
    assert_refused(blocked, '"failed_auth/60s";q=3;w=60')
    assert_refused(good_but_new, "failed_auth/60s")
    assert already_known.status_code == 200  # a token verified before is not a guess
    assert no_token.status_code == 401  # nothing to check: no token, no count
    assert other_address.status_code == 401


async def test_limits_switched_off_refuse_nothing(db: Container, mailboxes: None) -> None:
    async with limited_client(
        db, rate_limits_enabled=False, rate_limit_quotes="1/minute", redis_url=None
    ) as api:
        answers = [
            await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=CUSTOMER)
            for _ in range(3)
        ]

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert "ratelimit" not in answers[2].headers


async def test_redis_down_serves_unlimited_and_counts_it(db: Container, mailboxes: None) -> None:
    async with limited_client(
        db, rate_limit_quotes="1/minute", redis_url="redis://127.0.0.1:1/0"
    ) as api:
        answers = [
            await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=CUSTOMER)
            for _ in range(3)
        ]
        metrics = await api.get("/metrics")

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert "ratelimit" not in answers[0].headers
    assert "rate_limit_store_errors_total 1.0" in metrics.text  # then not tried for a while


async def test_redis_counters_are_the_limits_librarys_sliding_windows(
    db: Container, mailboxes: None, redis_prefix: str
) -> None:
    async with limited_client(
        db,
        rate_limit_quotes="5/minute",
        redis_url=REDIS_TEST_URL,
        rate_limit_key_prefix=redis_prefix,
    ) as api:
        for _ in range(2):
            await api.post("/v1/quotes", json=quote_body("mbx-1"), headers=CUSTOMER)

    storage = RedisStorage(
        f"async+{REDIS_TEST_URL}", implementation="redispy", key_prefix=redis_prefix
    )
    stock = SlidingWindowCounterRateLimiter(storage)
    stats = await stock.get_window_stats(parse("5/minute"), "quotes", "customer:acc-1")
    assert stats.remaining == 3


@pytest.mark.parametrize(
    "name", ["rate_limit_quotes", "rate_limit_webhooks", "rate_limit_failed_auth"]
)
@pytest.mark.parametrize("text", ["lots", "", "10/fortnight", "0/minute"])
def test_a_bad_limit_string_stops_startup(name: str, text: str) -> None:
    with pytest.raises(ValidationError, match="not a rate limit"):
        Settings(**{name: text})  # type: ignore[arg-type]


def test_limit_strings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_ORDERS", "5/second;100/hour")
    assert Settings().rate_limit_orders == "5/second;100/hour"
    monkeypatch.setenv("RATE_LIMIT_ORDERS", "often")
    with pytest.raises(ValidationError, match=r"(?i)rate_limit_orders"):
        Settings()
