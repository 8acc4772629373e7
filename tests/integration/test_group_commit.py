"""The group commit (app/db/group_commit.py) on PostgreSQL: writes made in the same turn
of the event loop go as one transaction, each caller gets its own row back, and one
write's failure is its own, never its group's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from app.container import Container
from app.db.engine import DatabaseTimeouts, make_engine
from app.db.group_commit import GroupCommit
from app.db.pooled_connection import CONNECTION_LOST, KeptConnection, autocommit_connection
from tests.api.loopback_servers import free_port

INSERT = (
    "INSERT INTO group_commit_probe (id, n) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id, n"
)
INSERT_DOUBLED = "INSERT INTO group_commit_probe (id, n) VALUES ($1, $2 * 2) RETURNING id, n"
# Ends its own connection (PostgreSQL answers FATAL 57P01): as a server restart would.
KILL_CONNECTION = "SELECT $1::text, pg_terminate_backend(pg_backend_pid())"


@pytest.fixture
async def probe(db: Container) -> AsyncIterator[Container]:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the group commit runs on PostgreSQL only")
    await _sql(db, "CREATE TABLE group_commit_probe (id text PRIMARY KEY, n int CHECK (n >= 0))")
    try:
        yield db
    finally:
        await _sql(db, "DROP TABLE group_commit_probe")


async def _sql(db: Container, statement: str) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text(statement))


@pytest.fixture
def counted(probe: Container) -> tuple[GroupCommit, list[int]]:
    """A group commit on the probe's database, and the size of each group it sends."""
    sizes: list[int] = []
    return GroupCommit(probe.engine, sizes.append), sizes


async def _stored(db: Container) -> dict[str, int]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, n FROM group_commit_probe"))
        return {row.id: row.n for row in rows}


def _insert(writes: GroupCommit, key: str, n: int, sql: str = INSERT) -> asyncio.Future[Any]:
    return asyncio.ensure_future(writes.fetchrow(sql, [key, n], key))


async def test_writes_made_in_one_turn_are_one_group_and_each_caller_gets_its_row(
    probe: Container, counted: tuple[GroupCommit, list[int]]
) -> None:
    writes, sizes = counted
    rows = await asyncio.gather(*(_insert(writes, f"k{n}", n) for n in range(5)))
    assert sizes == [5]
    assert [tuple(row) for row in rows] == [(f"k{n}", n) for n in range(5)]
    assert await _stored(probe) == {f"k{n}": n for n in range(5)}


async def test_a_write_made_after_its_group_was_sent_goes_in_the_next_group(
    counted: tuple[GroupCommit, list[int]],
) -> None:
    writes, sizes = counted
    assert tuple(await writes.fetchrow(INSERT, ["a", 1], "a")) == ("a", 1)
    assert tuple(await writes.fetchrow(INSERT, ["b", 2], "b")) == ("b", 2)
    assert sizes == [1, 1]


async def test_a_failing_write_fails_alone_and_the_rest_of_its_group_is_committed(
    probe: Container, counted: tuple[GroupCommit, list[int]]
) -> None:
    writes, sizes = counted
    outcomes = await asyncio.gather(
        _insert(writes, "ok1", 1),
        _insert(writes, "bad", -1),  # the CHECK refuses it
        _insert(writes, "ok2", 2),
        return_exceptions=True,
    )
    assert sizes == [3]
    assert isinstance(outcomes[1], asyncpg.CheckViolationError)
    assert [tuple(outcomes[0]), tuple(outcomes[2])] == [("ok1", 1), ("ok2", 2)]  # type: ignore[arg-type]
    assert await _stored(probe) == {"ok1": 1, "ok2": 2}


async def test_a_write_that_returns_no_row_gets_none_and_the_others_their_own(
    probe: Container,
) -> None:
    writes = GroupCommit(probe.engine)
    await writes.fetchrow(INSERT, ["taken", 7], "taken")
    rows = await asyncio.gather(_insert(writes, "new", 1), _insert(writes, "taken", 8))
    assert tuple(rows[0]) == ("new", 1)
    assert rows[1] is None  # ON CONFLICT DO NOTHING: nothing inserted
    assert await _stored(probe) == {"taken": 7, "new": 1}


async def test_statements_of_different_text_in_one_group_are_each_answered(
    probe: Container, counted: tuple[GroupCommit, list[int]]
) -> None:
    writes, sizes = counted
    rows = await asyncio.gather(
        _insert(writes, "plain", 3),
        _insert(writes, "doubled", 3, INSERT_DOUBLED),
        _insert(writes, "plain2", 4),
    )
    assert sizes == [3]
    assert [tuple(row) for row in rows] == [("plain", 3), ("doubled", 6), ("plain2", 4)]


async def test_a_caller_that_stops_waiting_leaves_the_others_answered_and_its_write_made(
    probe: Container,
) -> None:
    writes = GroupCommit(probe.engine)
    gone, kept = _insert(writes, "gone", 1), _insert(writes, "kept", 2)
    await asyncio.sleep(0)  # both joined the group
    gone.cancel()
    assert tuple(await kept) == ("kept", 2)
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await _stored(probe) == {"gone": 1, "kept": 2}


async def test_a_connection_lost_fails_every_write_of_its_group_and_the_next_group_works(
    probe: Container,
) -> None:
    writes = GroupCommit(probe.engine)
    outcomes = await asyncio.gather(
        asyncio.ensure_future(writes.fetchrow(KILL_CONNECTION, ["x"], "x")),
        _insert(writes, "lost1", 1),
        _insert(writes, "lost2", 2),
        return_exceptions=True,
    )
    assert all(isinstance(outcome, CONNECTION_LOST) for outcome in outcomes), outcomes
    assert await _stored(probe) == {}
    # The dead connection left the pool: the next write gets a live one.
    assert tuple(await writes.fetchrow(INSERT, ["after", 3], "after")) == ("after", 3)


async def test_a_group_that_gets_no_connection_fails_and_the_next_write_is_not_stuck_behind_it(
    probe: Container,
) -> None:
    nowhere = make_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test",
        timeouts=DatabaseTimeouts(connect=0.5),
    )
    writes = GroupCommit(nowhere)
    try:
        for key in ("first", "next"):
            write = asyncio.ensure_future(writes.fetchrow(INSERT, [key, 1], key))
            await asyncio.wait([write], timeout=10)
            assert write.done(), "the write waits on a group that will never be sent"
            assert isinstance(write.exception(), ConnectionRefusedError)
    finally:
        await nowhere.dispose()


async def test_two_writes_of_one_key_in_a_group_are_sent_one_after_the_other(
    probe: Container,
) -> None:
    """A retry racing its first try: their rows could not be told apart in one fetchmany."""
    writes = GroupCommit(probe.engine)
    rows = await asyncio.gather(_insert(writes, "same", 1), _insert(writes, "same", 2))
    assert tuple(rows[0]) == ("same", 1)
    assert rows[1] is None  # the first one's row was there already
    assert await _stored(probe) == {"same": 1}


async def test_a_statement_timeout_fails_its_group_at_once_without_sending_each_again(
    probe: Container,
) -> None:
    """The server cancelled a statement: sending the others one by one would only wait out
    the timeout again for each."""
    quick = make_engine(probe.settings.database_url, timeouts=DatabaseTimeouts(statement=0.3))
    writes = GroupCommit(quick)
    slow = "INSERT INTO group_commit_probe (id, n) SELECT $1, $2 FROM pg_sleep(1) RETURNING id, n"
    try:
        started = time.monotonic()
        outcomes = await asyncio.gather(
            _insert(writes, "slow1", 1, slow),
            _insert(writes, "slow2", 2, slow),
            _insert(writes, "after", 3),
            return_exceptions=True,
        )
        elapsed = time.monotonic() - started
    finally:
        await quick.dispose()
    assert all(isinstance(outcome, asyncpg.QueryCanceledError) for outcome in outcomes), outcomes
    assert elapsed < 0.9  # one timeout, not one per statement
    assert await _stored(probe) == {}


# The key, and the server process that wrote it: which connection sent the group.
INSERT_SAYING_WHERE = (
    "INSERT INTO group_commit_probe (id, n) VALUES ($1, $2) RETURNING id, pg_backend_pid()"
)


async def test_a_write_that_opens_its_group_sends_it_on_the_connection_its_read_used(
    probe: Container, counted: tuple[GroupCommit, list[int]]
) -> None:
    """A store reads, then writes: one connection borrowed for both, not one each. It
    never goes back to the pool in between: a borrow made meanwhile gets another."""
    writes, sizes = counted
    async with KeptConnection(probe.engine) as kept:
        read_by = (await kept.fetchrow("SELECT pg_backend_pid()"))[0]
        write = asyncio.ensure_future(writes.fetchrow(INSERT_SAYING_WHERE, ["k", 1], "k", kept))
        await asyncio.sleep(0)  # the write opened its group; the group is not sent yet
        async with autocommit_connection(probe.engine) as meanwhile:
            meanwhile_on = await meanwhile.fetchval("SELECT pg_backend_pid()")
        row = await write
    assert tuple(row) == ("k", read_by)
    assert meanwhile_on != read_by
    assert sizes == [1]
    assert _pool_of(probe.engine).checkedout() == 0


async def test_a_kept_connection_is_given_back_before_its_write_joins_an_open_group(
    probe: Container,
) -> None:
    """With one pooled connection, held by a store that has read: the group another write
    opened waits for that connection, and gets it when the store's write joins the group
    (kept while waiting, both would wait until the pool's timeout)."""
    engine = make_engine(probe.settings.database_url, pool_size=1, max_overflow=0)
    sizes: list[int] = []
    writes = GroupCommit(engine, sizes.append)
    try:
        async with KeptConnection(engine) as kept:
            await kept.fetchrow("SELECT 1")
            first = _insert(writes, "first", 1)
            await asyncio.sleep(0)  # the first write opened the group; its sender waits
            row = await writes.fetchrow(INSERT, ["second", 2], "second", kept)
        assert (tuple(await first), tuple(row)) == (("first", 1), ("second", 2))
        assert sizes == [2]
        assert _pool_of(engine).checkedout() == 0
    finally:
        await engine.dispose()


# Opening the lost connection's slot again starts outside the greenlet: make_engine's
# filter for that warning was set before this test's own filters (see make_engine).
@pytest.mark.filterwarnings("ignore:coroutine 'connect' was never awaited")
async def test_a_kept_connection_that_was_lost_is_not_lent_and_leaves_the_pool(
    probe: Container,
) -> None:
    writes = GroupCommit(probe.engine)
    async with KeptConnection(probe.engine) as kept:
        lost_pid = (await kept.fetchrow("SELECT pg_backend_pid()"))[0]
        with pytest.raises(CONNECTION_LOST):
            await kept.fetchrow(KILL_CONNECTION, "x")
        row = await writes.fetchrow(INSERT_SAYING_WHERE, ["after", 1], "after", kept)
    assert row[0] == "after"
    assert row[1] != lost_pid  # written on a live connection
    async with KeptConnection(probe.engine) as again:  # no dead connection handed out
        assert (await again.fetchrow("SELECT 1"))[0] == 1
    assert _pool_of(probe.engine).checkedout() == 0


def _pool_of(engine: AsyncEngine) -> QueuePool:
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool
