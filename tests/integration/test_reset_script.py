"""The tests' one-round-trip reset (tests/fixtures.py) stores exactly what the models do.

Every database test starts from that reset: were the script to drift from the seed the
models write (a row, a JSON null, an id sequence's position), tests would pass on data
the app never writes.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.container import Container
from app.db.models import Base
from tests.api.helpers import put_mailbox
from tests.conftest import CUSTOMER
from tests.fixtures import _NUMBERED, _seed_through_the_models, reset_database


async def _everything(connection: AsyncConnection) -> dict[str, object]:
    stored: dict[str, object] = {}
    for table in Base.metadata.sorted_tables:
        stored[table.name] = (
            await connection.execute(
                text(f'SELECT array_agg(t::text ORDER BY t::text) FROM "{table.name}" t')
            )
        ).scalar_one()
    for numbered, column in _NUMBERED:
        stored[f"{numbered}.{column} next"] = (
            await connection.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, :column))"),
                {"table": numbered, "column": column},
            )
        ).scalar_one()
    return stored


async def test_the_reset_script_stores_what_the_models_store(
    db: Container, client: httpx.AsyncClient
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite every reset goes through the models")
    await put_mailbox(client, "mbx-1")  # something for the reset to take away
    assert (await client.get("/v1/mailboxes/mbx-1", headers=CUSTOMER)).status_code == 200

    await reset_database(db)
    async with db.engine.connect() as connection:
        by_script = await _everything(connection)
        await connection.rollback()
    async with db.engine.connect() as connection:
        await _seed_through_the_models(connection)
        by_models = await _everything(connection)
        await connection.rollback()

    assert by_script == by_models
    assert by_script["accounts"] is not None
