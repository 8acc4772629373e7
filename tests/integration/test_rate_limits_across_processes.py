"""Two api processes sharing Redis hold one budget per caller: a customer who spends its
quote limit over both is refused by both."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from app.container import Container
from tests.api.helpers import put_mailbox
from tests.api_processes import api_processes
from tests.conftest import CUSTOMER, OTHER_CUSTOMER, TEST_SECRET
from tests.rate_limit_fixtures import REDIS_TEST_URL, redis_prefix

__all__ = ["redis_prefix"]  # a fixture

QUOTE = {"years": 1, "items": [{"mailbox_id": "mbx-shared"}]}


async def test_two_api_processes_refuse_a_caller_over_its_shared_quote_limit(
    db: Container, client: httpx.AsyncClient, redis_prefix: str, tmp_path: Path
) -> None:
    await put_mailbox(client, "mbx-shared", account_id="acc-1")
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": db.settings.database_url,
        "AUTH_JWT_SECRET": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": REDIS_TEST_URL,
        "RATE_LIMIT_KEY_PREFIX": redis_prefix,
        "RATE_LIMIT_QUOTES": "5/minute",
        "DATABASE_POOL_SIZE": "2",
    }
    with api_processes(2, env, tmp_path) as (first, second):
        async with httpx.AsyncClient(timeout=10) as http:
            spent = [
                await http.post(f"{base}/v1/quotes", json=QUOTE, headers=CUSTOMER)
                for base in (first, second, first, second, first)
            ]
            refused = [
                await http.post(f"{base}/v1/quotes", json=QUOTE, headers=CUSTOMER)
                for base in (first, second)
            ]
            other = await http.post(f"{second}/v1/quotes", json=QUOTE, headers=OTHER_CUSTOMER)

    assert [r.status_code for r in spent] == [201] * 5, [r.text for r in spent]
    assert [r.headers["ratelimit"].split(";")[1] for r in spent] == [
        f"r={n}" for n in range(4, -1, -1)
    ]
    assert [r.status_code for r in refused] == [429, 429]
    assert {r.json()["code"] for r in refused} == {"rate_limited"}
    assert all(1 <= int(r.headers["retry-after"]) <= 60 for r in refused)
    assert other.status_code == 404  # another caller's own budget (not its mailbox)
