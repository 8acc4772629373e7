"""The product app plus two routes that exist only for the benchmark (never in `app/`).

uv run uvicorn bench.bench_app:create_bench_app --factory

* GET /bench/trivial — the bare app's fixed small JSON (bench/bare_app.py) behind all
  of the product's middleware: what our stack adds to FastAPI's floor.
* GET /bench/asyncpg — one primary-key read from `mailboxes` on a raw asyncpg pool
  (no SQLAlchemy, no transaction): the floor of a one-query endpoint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.main import create_app
from app.settings import Settings
from bench.bare_app import TRIVIAL_BODY, TRIVIAL_PATH

MAILBOX_QUERY = "SELECT id, plan_code, expires_on, status FROM mailboxes WHERE id = $1"
BENCH_MAILBOX_ID = "mbx-standard"


def asyncpg_dsn(database_url: str) -> str:
    """SQLAlchemy's `postgresql+asyncpg://…` as a plain libpq-style DSN for asyncpg."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_bench_app() -> FastAPI:
    settings = Settings()
    app = create_app(settings)
    pool_size = settings.database_pool_size
    product_lifespan: Callable[[Any], AbstractAsyncContextManager[Any]] = (
        app.router.lifespan_context
    )

    @asynccontextmanager
    async def lifespan(inner: Any) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            asyncpg_dsn(settings.database_url), min_size=pool_size, max_size=pool_size
        )
        app.state.bench_pool = pool
        try:
            async with product_lifespan(inner):
                yield
        finally:
            await pool.close()

    app.router.lifespan_context = lifespan

    @app.get(TRIVIAL_PATH, include_in_schema=False)
    async def trivial() -> dict[str, Any]:
        return TRIVIAL_BODY

    @app.get("/bench/asyncpg", include_in_schema=False)
    async def one_query() -> dict[str, Any]:
        pool: asyncpg.Pool = app.state.bench_pool
        async with pool.acquire() as connection:
            row = await connection.fetchrow(MAILBOX_QUERY, BENCH_MAILBOX_ID)
        return {
            "id": row["id"],
            "plan": row["plan_code"],
            "expires_on": row["expires_on"].isoformat(),
            "status": row["status"],
        }

    return app
