"""The lean paths' pooled connections: taken and given back in place when that is only
bookkeeping, and through SQLAlchemy's greenlet when it is I/O (opening a connection the
pool had dropped, closing one the pool has no room for)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from sqlalchemy.util import greenlet_spawn

from app.container import Container
from app.db.engine import make_engine
from app.db.pooled_connection import CONNECTION_LOST, autocommit_connection

# A connection opened again must not leave a connect behind that Python reports as never
# awaited: on a live server that report is noise in the logs at the worst moment.
pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
async def small_pool(db: Container) -> AsyncIterator[AsyncEngine]:
    """One pooled connection and one more past the pool, on the test database."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the lean paths run on PostgreSQL")
    engine = make_engine(db.settings.database_url, pool_size=1, max_overflow=1)
    yield engine
    await engine.dispose()


def _pool(engine: AsyncEngine) -> QueuePool:
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool


async def _backend(engine: AsyncEngine) -> int:
    async with autocommit_connection(engine) as connection:
        return int(await connection.fetchval("SELECT pg_backend_pid()"))


async def test_an_idle_connection_is_used_again(small_pool: AsyncEngine) -> None:
    first = await _backend(small_pool)

    assert await _backend(small_pool) == first
    assert _pool(small_pool).checkedout() == 0


async def test_a_connection_the_pool_dropped_is_opened_again(small_pool: AsyncEngine) -> None:
    first = await _backend(small_pool)
    # As after a failed statement: the pool keeps the slot, without its connection.
    pooled = await small_pool.raw_connection()
    await greenlet_spawn(pooled.invalidate)

    again = await _backend(small_pool)

    assert again != first  # a new server process: the connection was opened again
    assert _pool(small_pool).checkedout() == 0


async def test_a_connection_past_the_pool_is_closed_when_given_back(
    small_pool: AsyncEngine,
) -> None:
    async with autocommit_connection(small_pool) as first:
        async with autocommit_connection(small_pool) as second:
            assert await second.fetchval("SELECT 1") == 1
        assert await first.fetchval("SELECT 1") == 1

    # The second back took the pool's one place; the last one back found none: closed,
    # not leaked.
    assert [first.is_closed(), second.is_closed()] == [True, False]
    pool = _pool(small_pool)
    assert (pool.checkedout(), pool.checkedin()) == (0, 1)


async def test_the_connection_given_back_last_is_taken_first(db: Container) -> None:
    """Under a light load the same connection serves request after request, its server
    process warm, rather than each request taking the pool's coldest (as FIFO would)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the lean paths run on PostgreSQL")
    engine = make_engine(db.settings.database_url, pool_size=3)
    try:
        async with AsyncExitStack() as three:
            held = [await three.enter_async_context(autocommit_connection(engine)) for _ in "abc"]
            backends = [await connection.fetchval("SELECT pg_backend_pid()") for connection in held]
        # Given back in the reverse order of taking (the stack unwinds): the first one last.

        assert await _backend(engine) == backends[0]
        assert await _backend(engine) == backends[0]
    finally:
        await engine.dispose()


async def test_after_the_pool_saw_its_server_go_away_every_idle_connection_is_opened_anew(
    db: Container,
) -> None:
    """A disconnect seen through SQLAlchemy marks every connection opened before it as
    stale (the server restarted, say): the lean paths must not take an idle one as is."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the lean paths run on PostgreSQL")
    engine = make_engine(db.settings.database_url, pool_size=2)
    try:
        async with autocommit_connection(engine) as first, autocommit_connection(engine) as second:
            before = {await c.fetchval("SELECT pg_backend_pid()") for c in (first, second)}
        with pytest.raises(DBAPIError):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

        async with autocommit_connection(engine) as first, autocommit_connection(engine) as second:
            after = {await c.fetchval("SELECT pg_backend_pid()") for c in (first, second)}

        assert not after & before  # the killed one, and the one still alive, both new
        assert _pool(engine).checkedout() == 0
    finally:
        await engine.dispose()


async def test_a_connection_lost_under_a_statement_leaves_the_pool(small_pool: AsyncEngine) -> None:
    lost = await _backend(small_pool)
    with pytest.raises(CONNECTION_LOST):
        async with autocommit_connection(small_pool) as connection:
            await connection.fetchval("SELECT pg_terminate_backend(pg_backend_pid())")

    assert await _backend(small_pool) != lost  # a live one, opened again
    assert (_pool(small_pool).checkedout(), _pool(small_pool).checkedin()) == (0, 1)
