"""Engine and session factory, built from settings in the app's lifespan (never at import)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, pool_size: int = 20, max_overflow: int = 0) -> AsyncEngine:
    if is_sqlite(url):
        engine = create_async_engine(url)
        _enforce_sqlite_foreign_keys(engine)
        return engine
    # No overflow by default: connections opened past the pool are closed on return,
    # and under load that churn (a PostgreSQL fork per connect) costs more than waiting.
    return create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _enforce_sqlite_foreign_keys(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
