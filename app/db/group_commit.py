"""Group commit: the single-row writes that requests make in the same turn of the event
loop, sent together on one pooled connection: ONE pipelined transaction per statement
text (a quote's insert, an order's write, a payment's).

Under load, many requests reach their one write in the same turn (uvicorn reads every
socket that is ready, then runs their handlers up to their first wait). Each write alone
costs a pool checkout and checkin, a round trip with its wake-ups, and a commit in
PostgreSQL; grouped, those are paid once per group (asyncpg's `fetchmany`: every
statement's Bind and Execute, then one Sync). A request alone is written alone, as
before, with no wait: the group is sent in the very next turn.

What every write sent here must be: one statement that returns at most one row, whose
first column is the `key` the caller gives (a quote's id). `fetchmany` returns the rows
of the whole group as one list; the keys hand each row to its request.

The writes of one statement text are atomic, as a transaction is: a statement that
fails rolls the others back. So when they fail with an error of a statement (not of the
connection) they are sent again one at a time, each then committed or failed on its own.
A connection lost fails every write of the group alike, as it fails a write sent alone.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.pooled_connection import CONNECTION_LOST, KeptConnection, autocommit_connection

# Errors of the connection, not of one statement (the statement timeout among them, an
# OperatorInterventionError): sending each write again alone would only repeat them.
_WHOLE_GROUP = CONNECTION_LOST


@dataclass(slots=True)
class _Write:
    sql: str
    args: Sequence[Any]
    key: object
    answer: asyncio.Future[Any]


class GroupCommit:
    def __init__(self, engine: AsyncEngine, on_sent: Callable[[int], None] | None = None) -> None:
        self._engine = engine
        self._on_sent = on_sent  # called with each group's size (a metric), if given
        # The group still open for joining, per event loop (tests run several in turn).
        self._open: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_Write]] = (
            weakref.WeakKeyDictionary()
        )
        self._sending: set[asyncio.Task[None]] = set()

    async def fetchrow(
        self, sql: str, args: Sequence[Any], key: object, kept: KeptConnection | None = None
    ) -> Any:
        """The row `sql` returned (its first column `key`), or None: committed, with the
        other writes of its group, when this returns. The caller's `kept` connection
        sends the group if this write opens one; else it is given back first."""
        loop = asyncio.get_running_loop()
        group = self._open.get(loop)
        if group is not None and kept is not None:
            await kept.close()  # the open group's sender has a connection, or will have
            group = self._open.get(loop)  # the same, unless giving it back had to wait
        if group is None:
            group = self._open[loop] = []
            # Its own task, not the first caller's: a caller that stops waiting must not
            # take the others' writes with it.
            lent = None if kept is None else kept.lend()
            task = loop.create_task(self._send(loop, group, lent))
            self._sending.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._sending.discard)
        answer: asyncio.Future[Any] = loop.create_future()
        group.append(_Write(sql, args, key, answer))
        return await answer

    async def _send(
        self,
        loop: asyncio.AbstractEventLoop,
        group: list[_Write],
        lent: AbstractAsyncContextManager[Any] | None,
    ) -> None:
        try:
            async with lent or autocommit_connection(self._engine) as connection:
                # Writes keep joining while the connection is awaited; from here on, the
                # next ones form the next group.
                self._close(loop, group)
                if self._on_sent is not None:
                    self._on_sent(len(group))
                by_statement: dict[str, list[_Write]] = {}
                for write in group:
                    by_statement.setdefault(write.sql, []).append(write)
                for writes in by_statement.values():
                    await _send_together(connection, writes)
        except BaseException as error:  # no connection, a lost one, or a bug
            # Closed first: a write joining a group whose sending is over would wait forever.
            self._close(loop, group)
            _fail(group, error)
            if not isinstance(error, Exception):
                raise

    def _close(self, loop: asyncio.AbstractEventLoop, group: list[_Write]) -> None:
        if self._open.get(loop) is group:
            del self._open[loop]


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
