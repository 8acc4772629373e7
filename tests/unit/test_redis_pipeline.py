"""The rate limits' connection to Redis: a connection Redis dropped is opened again and
the hit still counted; the URL's database and password are used; a URL option it would
ignore stops startup; a reply that is not Redis's protocol fails the calls waiting; the
calls of requests arriving together go out in one write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest
import redis

from app.rate_limit_policy import LimitedGroup, Policy
from app.rate_limit_store import RedisCounters
from app.redis_pipeline import RedisPipeline, resp
from tests.rate_limit_fixtures import REDIS_TEST_URL, redis_prefix

__all__ = ["redis_prefix"]  # a fixture

# What the sliding-windows script answers for one window: allowed, the previous window's
# count and milliseconds left, the current window's (the request counted) and its.
ALLOWED_ONE_WINDOW = b"*5\r\n:1\r\n:0\r\n:0\r\n:1\r\n:120000\r\n"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


@asynccontextmanager
async def fake_redis(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on loopback that runs `handler` for each connection (numbered from 0):
    its URL, and the list of connections it was opened for."""
    opened: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened.append(len(opened))
        try:
            await handler(reader, writer, opened[-1])
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}", opened
    finally:
        server.close()


def answering(reply: bytes) -> Handler:
    """A server that answers the first command with `reply`, then reads on."""

    async def handler(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _number: int
    ) -> None:
        await reader.read(1 << 16)
        writer.write(reply)
        await writer.drain()
        await reader.read(1 << 16)

    return handler


async def test_a_connection_redis_dropped_is_opened_again_and_the_hit_counted() -> None:
    async def drops_the_first(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int
    ) -> None:
        await reader.read(1 << 16)  # the EVALSHA
        if number == 0:
            return  # closed without a reply: as a Redis restarting
        writer.write(ALLOWED_ONE_WINDOW)
        await writer.drain()
        await reader.read(1 << 16)

    failures: list[None] = []
    async with fake_redis(drops_the_first) as (url, opened):
        counters = RedisCounters(url, "dropped", lambda: failures.append(None))
        try:
            decision = await counters.hit(Policy.of(LimitedGroup.QUOTES, "5/minute"), "c:1")
        finally:
            await counters.close()

    assert decision is not None  # counted, not served unlimited
    assert decision.allowed
    assert decision.remaining == 4
    assert failures == []
    assert opened == [0, 1]


async def test_the_urls_database_is_the_one_counted_in(redis_prefix: str) -> None:
    url = f"{REDIS_TEST_URL.rsplit('/', 1)[0]}/13"
    counters = RedisCounters(url, redis_prefix, lambda: None)
    policy = Policy.of(LimitedGroup.QUOTES, "5/minute")
    try:
        await counters.hit(policy, "customer:acc-1")
    finally:
        await counters.close()
    database_13 = redis.Redis.from_url(url)
    database_0 = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        keys = counters.keys(policy, "customer:acc-1")
        in_13, in_0 = database_13.exists(*keys), database_0.exists(*keys)
        database_13.delete(*keys)
    finally:
        database_13.close()
        database_0.close()

    assert (in_13, in_0) == (1, 0)


async def test_the_urls_password_is_sent_before_any_command() -> None:
    received: list[bytes] = []

    async def wants_a_password(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _number: int
    ) -> None:
        received.append(await reader.read(1 << 16))
        writer.write(b"+OK\r\n")
        await writer.drain()
        received.append(await reader.read(1 << 16))
        writer.write(b"+PONG\r\n")
        await writer.drain()

    async with fake_redis(wants_a_password) as (url, _opened):
        pipeline = RedisPipeline(url.replace("//", "//limiter:s3cret@"), 1.0)
        try:
            pong = await pipeline.call(resp(b"PING"))
        finally:
            pipeline.close()

    assert received == [resp(b"AUTH", b"limiter", b"s3cret"), resp(b"PING")]
    assert pong == b"PONG"


async def test_a_refused_password_serves_unlimited_and_counts_the_failure() -> None:
    failures: list[None] = []
    refuses = answering(b"-WRONGPASS invalid username-password pair\r\n")
    async with fake_redis(refuses) as (url, _opened):
        counters = RedisCounters(
            url.replace("//", "//:wrong@"), "refused", lambda: failures.append(None)
        )
        try:
            decision = await counters.hit(Policy.of(LimitedGroup.QUOTES, "5/minute"), "c:1")
        finally:
            await counters.close()

    assert decision is None
    assert failures == [None]


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0?socket_timeout=3", "http://127.0.0.1:6379"]
)
def test_a_redis_url_it_would_not_honour_stops_startup(url: str) -> None:
    with pytest.raises(ValueError, match=r"REDIS_URL|scheme"):
        RedisCounters(url, "startup", lambda: None)


async def test_a_reply_that_is_not_redis_protocol_fails_the_calls_waiting() -> None:
    async with fake_redis(answering(b"HTTP/1.1 400 Bad Request\r\n\r\n")) as (url, _opened):
        pipeline = RedisPipeline(url, 5.0)
        try:
            with pytest.raises(ConnectionError, match="not RESP"):
                await asyncio.wait_for(pipeline.call(resp(b"PING")), 2)
        finally:
            pipeline.close()


class _CountingWrites:
    """A transport that counts the writes passed on to the real one."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.transport.write(data)

    def abort(self) -> None:
        self.transport.abort()


async def test_the_calls_of_requests_arriving_together_go_to_redis_in_one_write() -> None:
    pipeline = RedisPipeline(REDIS_TEST_URL, 5.0)
    try:
        assert await pipeline.call(resp(b"PING")) == b"PONG"  # connected
        replies = pipeline._replies
        assert replies is not None
        counting = _CountingWrites(replies._transport)
        replies._transport = cast(asyncio.Transport, counting)

        echoes = await asyncio.gather(*(pipeline.call(resp(b"ECHO", n)) for n in range(20)))
        alone = await pipeline.call(resp(b"ECHO", "alone"))
    finally:
        pipeline.close()

    assert echoes == [str(n).encode() for n in range(20)]  # each call its own reply
    assert alone == b"alone"
    assert len(counting.writes) == 2
