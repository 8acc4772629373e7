"""What the rate-limit tests share: a Redis of their own keys, and apps with small limits.

Redis tests use a key prefix of their own and delete only the keys under it, so they
don't meet other tests, other runs or a bench on the same Redis. Without a Redis at
REDIS_TEST_URL they are skipped, unless REQUIRE_REDIS=1 (CI), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import redis

from app.container import Container, build_container
from app.main import create_app

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")


def _require_redis() -> bool:
    return os.environ.get("REQUIRE_REDIS", "").lower() in ("1", "true", "yes")


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix for this test alone; its keys are deleted after it."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as down:
        if _require_redis():
            pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but not reachable: {down!r}")
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    prefix = f"pec-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@asynccontextmanager
async def limited_client(
    db: Container, *, address: str = "203.0.113.7", **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app on the test database whose settings have `settings` changed
    (e.g. rate_limit_quotes="3/minute"), calling from `address`."""
    container = build_container(
        db.settings.model_copy(update=settings), clock=db.clock, engine=db.engine
    )
    transport = httpx.ASGITransport(app=create_app(container=container), client=(address, 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        await container.rate_limits.close()  # not container.close(): the engine is shared
