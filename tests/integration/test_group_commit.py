"""The group commit (app/db/group_commit.py) on PostgreSQL: writes made at once go in
groups, one out at a time, each group one transaction; each caller gets its own row back,
one write's failure is its own, never its group's, and a write stuck on a lock does not
hold up the others."""

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
from app.db import group_commit
from app.db.engine import DatabaseTimeouts, make_engine
from app.db.group_commit import GroupCommit
from app.db.pooled_connection import CONNECTION_LOST, KeptConnection, autocommit_connection
from tests.api.loopback_servers import free_port

INSERT = (
    "INSERT INTO group_commit_probe (id, n) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id, n"
)
INSERT_DOUBLED = "INSERT INTO group_commit_probe (id, n) VALUES ($1, $2 * 2) RETURNING id, n"
# The key, and the server process that wrote it: which connection sent the group.
INSERT_SAYING_WHERE = (
    "INSERT INTO group_commit_probe (id, n) VALUES ($1, $2) RETURNING id, pg_backend_pid()"
)
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


@pytest.fixture
def unhurried(monkeypatch: pytest.MonkeyPatch) -> None:
    """No group counts as stalled: a busy test machine must not start a second sender."""
    monkeypatch.setattr(group_commit, "STALLED", 60.0)


def _insert(writes: GroupCommit, key: str, n: int, sql: str = INSERT) -> asyncio.Future[Any]:
    return asyncio.ensure_future(writes.fetchrow(sql, [key, n], key))


@pytest.mark.usefixtures("unhurried")
async def test_writes_made_at_once_go_in_halves_one_group_out_at_a_time(
    probe: Container, counted: tuple[GroupCommit, list[int]]
) -> None:
    """Half first: its callers are answered while the next group is written."""
    writes, sizes = counted
    rows = await asyncio.gather(*(_insert(writes, f"k{n}", n) for n in range(5)))
    assert sizes == [3, 1, 1]
    assert [tuple(row) for row in rows] == [(f"k{n}", n) for n in range(5)]
    assert await _stored(probe) == {f"k{n}": n for n in range(5)}


@pytest.mark.usefixtures("unhurried")
async def test_the_writes_of_one_burst_are_sent_on_one_connection(probe: Container) -> None:
    writes = GroupCommit(probe.engine)
    rows = await asyncio.gather(
        *(
            asyncio.ensure_future(writes.fetchrow(INSERT_SAYING_WHERE, [f"k{n}", n], f"k{n}"))
            for n in range(6)
        )
    )
    assert len({row[1] for row in rows}) == 1


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
    assert sizes == [2, 1]
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
    assert sizes == [2, 1]
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


# The waiting write's sender opens the lost connection's slot again: SQLAlchemy's warning,
# as in test_a_kept_connection_that_was_lost_is_not_lent_and_leaves_the_pool.
@pytest.mark.filterwarnings("ignore:coroutine 'connect' was never awaited")
async def test_a_connection_lost_fails_every_write_of_its_group_and_the_next_group_works(
    probe: Container, counted: tuple[GroupCommit, list[int]]
) -> None:
    writes, sizes = counted
    outcomes = await asyncio.gather(
        asyncio.ensure_future(writes.fetchrow(KILL_CONNECTION, ["x"], "x")),
        _insert(writes, "lost", 1),
        _insert(writes, "waiting", 2),
        return_exceptions=True,
    )
    assert sizes == [2, 1]
    assert all(isinstance(outcome, CONNECTION_LOST) for outcome in outcomes[:2]), outcomes
    # The dead connection left the pool: the write that waited went on a live one.
    assert tuple(outcomes[2]) == ("waiting", 2)  # type: ignore[arg-type]
    assert await _stored(probe) == {"waiting": 2}


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


async def test_a_statement_timeout_fails_its_group_at_once_and_the_writes_behind_it_are_made(
    probe: Container,
) -> None:
    """The server cancelled a statement: sending the others of its group one by one would
    only wait out the timeout again for each. The write behind them went meanwhile."""
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
    assert all(isinstance(outcome, asyncpg.QueryCanceledError) for outcome in outcomes[:2])
    assert tuple(outcomes[2]) == ("after", 3)  # type: ignore[arg-type]
    assert elapsed < 0.9  # one timeout, not one per statement
    assert await _stored(probe) == {"after": 3}


async def test_a_write_waiting_on_a_lock_does_not_hold_up_the_writes_made_after_it(
    probe: Container,
) -> None:
    writes = GroupCommit(probe.engine)
    async with probe.engine.connect() as other:  # a transaction that inserted "busy", open
        await other.execute(text("INSERT INTO group_commit_probe (id, n) VALUES ('busy', 1)"))
        blocked = _insert(writes, "busy", 2)  # waits for that transaction's outcome
        await asyncio.sleep(0.02)
        started = time.monotonic()
        row = await asyncio.wait_for(writes.fetchrow(INSERT, ["after", 3], "after"), 5)
        waited = time.monotonic() - started
        assert tuple(row) == ("after", 3)
        assert not blocked.done()
        await other.rollback()
    assert tuple(await blocked) == ("busy", 2)
    assert waited < 1  # a sender of its own after STALLED, not the lock's whole wait
    assert await _stored(probe) == {"busy": 2, "after": 3}


async def test_a_write_that_starts_a_sender_sends_on_the_connection_its_read_used(
    probe: Container, counted: tuple[GroupCommit, list[int]]
) -> None:
    """A store reads, then writes: one connection borrowed for both, not one each. It
    never goes back to the pool in between: a borrow made meanwhile gets another."""
    writes, sizes = counted
    async with KeptConnection(probe.engine) as kept:
        read_by = (await kept.fetchrow("SELECT pg_backend_pid()"))[0]
        write = asyncio.ensure_future(writes.fetchrow(INSERT_SAYING_WHERE, ["k", 1], "k", kept))
        await asyncio.sleep(0)  # the write started its sender; nothing is sent yet
        async with autocommit_connection(probe.engine) as meanwhile:
            meanwhile_on = await meanwhile.fetchval("SELECT pg_backend_pid()")
        row = await write
    assert tuple(row) == ("k", read_by)
    assert meanwhile_on != read_by
    assert sizes == [1]
    assert _pool_of(probe.engine).checkedout() == 0


async def test_a_kept_connection_is_given_back_before_its_write_joins_the_queue(
    probe: Container,
) -> None:
    """With one pooled connection, held by a store that has read: the sender another write
    started waits for that connection, and gets it when the store's write joins the queue
    (kept while waiting, both would wait until the pool's timeout)."""
    engine = make_engine(probe.settings.database_url, pool_size=1, max_overflow=0)
    sizes: list[int] = []
    writes = GroupCommit(engine, sizes.append)
    try:
        async with KeptConnection(engine) as kept:
            await kept.fetchrow("SELECT 1")
            first = _insert(writes, "first", 1)
            await asyncio.sleep(0)  # the first write started a sender; it waits
            row = await writes.fetchrow(INSERT, ["second", 2], "second", kept)
        assert (tuple(await first), tuple(row)) == (("first", 1), ("second", 2))
        assert sizes == [1, 1]
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
