"""The test database: a fresh PostgreSQL database per run, or SQLite when none is reachable.

TEST_DATABASE_URL points at the server (default: the local one); each run creates its
own database there and drops it at the end. REQUIRE_POSTGRES=1 (CI) turns a missing
server into a failure instead of a fallback.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass
class TestDatabase:
    url: str
    kind: str  # "postgresql" or "sqlite"
    description: str
    admin_dsn: str | None = None
    name: str | None = None


def postgres_required() -> bool:
    return os.environ.get("REQUIRE_POSTGRES", "").lower() in ("1", "true", "yes")


async def create_test_database(tmp_dir: Path) -> TestDatabase:
    server = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER))
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"pec_test_{uuid.uuid4().hex[:12]}"
    try:
        connection = await _connect_admin(admin_dsn)
    except (OSError, asyncpg.PostgresError) as exc:
        if postgres_required():
            message = f"PostgreSQL is required but unreachable at {server!r}: {exc}"
            raise RuntimeError(message) from exc
        path = tmp_dir / "pec-test.sqlite3"
        return TestDatabase(
            url=f"sqlite+aiosqlite:///{path}",
            kind="sqlite",
            description=f"SQLite at {path} — NO PostgreSQL reachable ({exc}); "
            "database tests did NOT run on the production database",
        )
    try:
        version = await connection.fetchval("SHOW server_version")
        await connection.execute(f'CREATE DATABASE "{name}"')
        # The database is dropped at the end of the run: a commit need not wait for the disk.
        await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await connection.close()
    url = server.set(database=name).render_as_string(hide_password=False)
    return TestDatabase(
        url=url,
        kind="postgresql",
        description=f"PostgreSQL {version} at {server.host}:{server.port}, database {name}",
        admin_dsn=admin_dsn,
        name=name,
    )


async def _connect_admin(dsn: str) -> asyncpg.Connection:
    """The server's own database, or `postgres` (every cluster has it) when that is missing."""
    try:
        return await asyncpg.connect(dsn, timeout=5)
    except asyncpg.InvalidCatalogNameError:
        fallback = make_url(dsn).set(database="postgres").render_as_string(hide_password=False)
        return await asyncpg.connect(fallback, timeout=5)


async def drop_test_database(database: TestDatabase) -> None:
    if database.kind != "postgresql" or database.admin_dsn is None:
        return
    connection = await _connect_admin(database.admin_dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await connection.close()
