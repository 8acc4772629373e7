"""Group commit: the single-row writes that requests make while the database is busy,
sent together on one pooled connection: ONE pipelined transaction per statement text (a
quote's insert, an order's write, a payment's).

Under load, many requests reach their one write in the same turn of the event loop
(uvicorn reads every socket that is ready, then runs their handlers up to their first
wait). Each write alone costs a pool checkout and checkin, a round trip with its
wake-ups, and a commit in PostgreSQL; grouped, those are paid once per group (asyncpg's
`fetchmany`: every statement's Bind and Execute, then one Sync). A request alone is
written alone, as before, with no wait: its group is sent in the very next turn.

One group is out at a time (per event loop), and it takes the first half of the writes
waiting (at least one); the rest wait for its answer. Measured at 8 connections, rounds
alternated (docs/benchmarks.md, "One group out at a time"): orders then cost ~2.1 times
the one-query floor's time, against ~2.7 when a group went as soon as it formed, one per
turn on a connection of its own (half of them while another was out, each with its own
commit), and ~2.2-2.4 when one group out at a time took every write waiting. A group
answers all its writes when its last is done: half first, the api answers that half
while PostgreSQL writes the next. A group out longer than `STALLED` (a write waiting on
a lock) no longer holds up the rest: another sender starts, on a connection of its own.

What every write sent here must be: one statement that returns at most one row, whose
first column is the `key` the caller gives (a quote's id). `fetchmany` returns the rows
of the whole group as one list; the keys hand each row to its request.

The writes of one statement text are atomic, as a transaction is: a statement that
fails rolls the others back. So when they fail with an error of a statement (not of the
connection) they are sent again one at a time, each then committed or failed on its own.
A connection lost fails every write of its group alike, as it fails a write sent alone;
the writes still waiting go on another connection.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.pooled_connection import CONNECTION_LOST, KeptConnection, autocommit_connection

# Errors of the connection, not of one statement (the statement timeout among them, an
# OperatorInterventionError): sending each write again alone would only repeat them.
_WHOLE_GROUP = CONNECTION_LOST

# Seconds a group may be out before the writes waiting behind it get a sender of their
# own: far above a group's few milliseconds, far below the statement timeout.
STALLED = 0.05


@dataclass(slots=True)
class _Write:
    sql: str
    args: Sequence[Any]
    key: object
    answer: asyncio.Future[Any]


@dataclass(slots=True)
class _Queue:
    """One event loop's writes waiting to be sent, and how many senders are at work."""

    waiting: list[_Write] = field(default_factory=list)
    senders: int = 0

    def next_group(self) -> list[_Write]:
        """The first half of the writes waiting (at least one), taken off the queue."""
        size = (len(self.waiting) + 1) // 2
        group = self.waiting[:size]
        del self.waiting[:size]
        return group

    def take_all(self) -> list[_Write]:
        taken, self.waiting = self.waiting, []
        return taken


class GroupCommit:
    def __init__(self, engine: AsyncEngine, on_sent: Callable[[int], None] | None = None) -> None:
        self._engine = engine
        self._on_sent = on_sent  # called with each group's size (a metric), if given
        # Per event loop (tests run several in turn).
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = (
            weakref.WeakKeyDictionary()
        )
        self._sending: set[asyncio.Task[None]] = set()

    async def fetchrow(
        self, sql: str, args: Sequence[Any], key: object, kept: KeptConnection | None = None
    ) -> Any:
        """The row `sql` returned (its first column `key`), or None: committed, with the
        other writes of its group, when this returns. The caller's `kept` connection
        sends the writes waiting if no sender is at work; else it is given back first."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        if queue.senders and kept is not None:
            await kept.close()  # the sender at work has a connection
        answer: asyncio.Future[Any] = loop.create_future()
        queue.waiting.append(_Write(sql, args, key, answer))
        if not queue.senders:  # (looked at again: giving the connection back may have waited)
            self._start_sender(loop, queue, None if kept is None else kept.lend())
        return await answer

    def _start_sender(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: _Queue,
        lent: AbstractAsyncContextManager[Any] | None = None,
    ) -> None:
        # Its own task, not a caller's: a caller that stops waiting must not take the
        # others' writes with it.
        queue.senders += 1
        task = loop.create_task(self._send(loop, queue, lent))
        self._sending.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._sending.discard)

    async def _send(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: _Queue,
        lent: AbstractAsyncContextManager[Any] | None,
    ) -> None:
        """Groups, one after the other, on one connection, until no write waits."""
        connected, group = False, []
        try:
            # Writes keep joining the queue while the connection is awaited.
            async with lent or autocommit_connection(self._engine) as connection:
                connected = True
                while queue.waiting:
                    group = queue.next_group()
                    if self._on_sent is not None:
                        self._on_sent(len(group))
                    stalled = loop.call_later(STALLED, self._relieve, loop, queue)
                    try:
                        await _send_group(connection, group)
                    finally:
                        stalled.cancel()
                    group = []
        except BaseException as error:  # no connection, a lost one, a bug, or stopped
            if connected and isinstance(error, Exception):
                _fail(group, error)  # the writes waiting go on another connection (below)
            else:  # without a connection, or stopped, none would be sent: each would wait on
                _fail([*group, *queue.take_all()], error)
            if not isinstance(error, Exception):
                raise
        finally:
            queue.senders -= 1
            if queue.waiting and not queue.senders:  # joined while the connection went back
                self._start_sender(loop, queue)

    def _relieve(self, loop: asyncio.AbstractEventLoop, queue: _Queue) -> None:
        if queue.waiting:
            self._start_sender(loop, queue)


async def _send_group(connection: Any, group: list[_Write]) -> None:
    by_statement: dict[str, list[_Write]] = {}
    for write in group:
        by_statement.setdefault(write.sql, []).append(write)
    for writes in by_statement.values():
        await _send_together(connection, writes)


async def _send_together(connection: Any, writes: list[_Write]) -> None:
    if len(writes) == 1 or len({write.key for write in writes}) < len(writes):
        # Alone; or two writes of one key (a retry racing its first try), whose rows could
        # not be told apart: one after the other.
        for write in writes:
            await _send_alone(connection, write)
        return
    try:
        rows = await connection.fetchmany(writes[0].sql, [write.args for write in writes])
    except asyncpg.PostgresError as error:
        if isinstance(error, _WHOLE_GROUP):
            raise
        for write in writes:  # nothing was committed: each on its own now
            await _send_alone(connection, write)
        return
    by_key = {row[0]: row for row in rows}
    if len(by_key) != len(rows) or not by_key.keys() <= {write.key for write in writes}:
        raise RuntimeError("a grouped write returned a row that is not its own key's")
    for write in writes:
        _answer(write, by_key.get(write.key))


async def _send_alone(connection: Any, write: _Write) -> None:
    try:
        row = await connection.fetchrow(write.sql, *write.args)
    except asyncpg.PostgresError as error:
        if not write.answer.done():
            write.answer.set_exception(error)
        if isinstance(error, _WHOLE_GROUP):
            raise
        return
    _answer(write, row)


def _answer(write: _Write, row: Any) -> None:
    if not write.answer.done():  # a caller cancelled meanwhile: its write stands, unread
        write.answer.set_result(row)


def _fail(group: list[_Write], error: BaseException) -> None:
    for write in group:
        if not write.answer.done():
            write.answer.set_exception(error)


class RowWrites(Protocol):
    async def fetchrow(
        self, sql: str, args: Sequence[Any], key: object, kept: KeptConnection | None = None
    ) -> Any:
        """The row `sql` returned (its first column `key`), or None; committed."""
        ...


class WritesAlone:
    """GroupCommit's contract, each write sent alone on one given connection (a store
    opened on a connection of its own: the tests', a transaction's)."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def fetchrow(
        self,
        sql: str,
        args: Sequence[Any],
        key: object,  # noqa: ARG002
        kept: KeptConnection | None = None,  # noqa: ARG002
    ) -> Any:
        return await self._connection.fetchrow(sql, *args)
