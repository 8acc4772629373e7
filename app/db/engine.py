"""Engine and session factory, built from settings in the app's lifespan (never at import)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.db.json_documents import dumps, loads


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long anything waits on the database, in seconds (see Settings)."""

    connect: float = 3.0
    pool_acquire: float = 2.0
    statement: float = 5.0


# PostgreSQL's own statement_timeout normally fires first: it cancels the statement and
# leaves the connection usable. The client's timeout, this much later, is the backstop
# for a server that answers nothing at all (hung, or cut off without a reset).
CLIENT_TIMEOUT_GRACE_SECONDS = 0.5

_SQLALCHEMY_AWAIT = r"sqlalchemy\.util\.concurrency"  # where SQLAlchemy drops an await


def make_engine(
    url: str,
    pool_size: int = 20,
    max_overflow: int = 0,
    timeouts: DatabaseTimeouts = DatabaseTimeouts(),  # frozen: one default shared safely
) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url, json_serializer=dumps, json_deserializer=loads)
        _enforce_sqlite_foreign_keys(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if make_url(url).get_driver_name() == "asyncpg":
        connect_args = asyncpg_timeouts(timeouts)
    # The lean paths take idle pooled connections outside SQLAlchemy's greenlet
    # (app/db/pooled_connection.py). One the pool must open again stops there at the
    # connect, which is then made in the greenlet; the first, never awaited, is no fault.
    warnings.filterwarnings(
        "ignore", "coroutine 'connect' was never awaited", RuntimeWarning, _SQLALCHEMY_AWAIT
    )
    # No overflow by default: connections opened past the pool are closed on return,
    # and under load that churn (a PostgreSQL fork per connect) costs more than waiting.
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=timeouts.pool_acquire,
        # The connection given back last is taken first, as asyncpg's own pool does: under
        # a light load the same few stay busy, with their PostgreSQL backends' caches and
        # plans warm, instead of every request taking the coldest of the pool (issue 10).
        pool_use_lifo=True,
        connect_args=connect_args,
        json_serializer=dumps,
        json_deserializer=loads,
    )
    _discard_connections_that_timed_out(engine)
    return engine


def asyncpg_timeouts(timeouts: DatabaseTimeouts) -> dict[str, Any]:
    """asyncpg.connect() arguments bounding the connect and every statement, both ends."""
    statement_ms = max(1, round(timeouts.statement * 1000))
    return {
        "timeout": timeouts.connect,
        "command_timeout": timeouts.statement + CLIENT_TIMEOUT_GRACE_SECONDS,
        "server_settings": {"statement_timeout": str(statement_ms)},
    }


def abandon(driver_connection: Any) -> None:
    """Close an asyncpg connection at once, without the goodbye a silent server never
    acknowledges (a graceful close would wait for it), and stop its pending cancel
    request, which is stuck on that same server."""
    driver_connection.terminate()


def _discard_connections_that_timed_out(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        connection = context.connection
        if not isinstance(context.original_exception, TimeoutError) or connection is None:
            return
        # The server never answered: the connection is somewhere mid-statement, in a state
        # nobody knows. It must not go back to the pool; the next caller gets a new one.
        if not connection.invalidated:
            abandon(connection.connection.driver_connection)
        context.is_disconnect = True
        # Only this connection: the idle ones were not touched by the freeze and work again
        # when the server does (dropping them all would mean a slow goodbye each).
        context.invalidate_pool_on_disconnect = False


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _enforce_sqlite_foreign_keys(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


async def answers(engine: AsyncEngine) -> None:
    """Raise unless the database answers a trivial query (readiness)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
