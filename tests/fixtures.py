"""Test data every database test starts from: the demo price list, accounts, a partner.

On PostgreSQL the first reset of a database goes through the models, as the app writes;
it is then kept as one SQL script (delete everything, insert the same rows, set each id
sequence where it was) that every later reset sends in one round trip: several times
cheaper than a statement per table and per row, before each of hundreds of tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.container import Container
from app.db.catalog_repository import CatalogRepository
from app.db.emptying import empty_tables
from app.db.models import AccountRow, Base, CreditMovementRow, PartnerRow
from app.sandbox.demo_catalog import demo_price_list

SEEDED_AT = datetime(2026, 11, 1, tzinfo=UTC)  # before any test's clock

# database URL -> the script that brings it back to the seeded state
_seeded_scripts: dict[str, str] = {}


async def empty_database(container: Container) -> None:
    """Empty every table, and forget the price list this process had in memory."""
    async with container.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await _run_script(connection, _EMPTY_SCRIPT)
        else:
            await empty_tables(connection)
    _forget_cached_catalog(container)


async def reset_database(container: Container) -> None:
    """Empty every table, then store the demo price list, three accounts and a partner.

    One transaction on one connection: it runs before each of hundreds of tests.
    """
    url = container.engine.url.render_as_string(hide_password=False)
    async with container.engine.begin() as connection:
        script = _seeded_scripts.get(url)
        if script is not None:
            await _run_script(connection, script)
        else:
            await _seed_through_the_models(connection)
            if connection.dialect.name == "postgresql":
                _seeded_scripts[url] = await _script_of_what_is_stored(connection)
    _forget_cached_catalog(container)


async def _seed_through_the_models(connection: AsyncConnection) -> None:
    await empty_tables(connection)
    session = AsyncSession(bind=connection, expire_on_commit=False)
    await CatalogRepository(session).add(demo_price_list())
    session.add_all(
        [
            AccountRow(id="acc-1", name="Mario Rossi", email="mario@example.it"),
            AccountRow(id="acc-2", name="Studio Bianchi", email="studio@example.it"),
            AccountRow(id="acc-p", name="Anna Neri", email="anna@example.com", language="en"),
            PartnerRow(id="ptn-1", name="Web Reseller", credit_cents=10_000),
        ]
    )
    await session.flush()
    # The partner's credit came from a top-up, as every credit does: the ledger
    # explains the balance from the first line.
    session.add(
        CreditMovementRow(
            partner_id="ptn-1",
            kind="top_up",
            amount_cents=10_000,
            balance_after_cents=10_000,
            created_at=SEEDED_AT,
        )
    )
    await session.flush()
    await session.close()


async def _script_of_what_is_stored(connection: AsyncConnection) -> str:
    """Every row as PostgreSQL's own text form of the table's row type (exact for every
    type: SQL NULL and JSON null stay apart), and every id sequence's position."""
    statements = [_EMPTY_SCRIPT]
    for table in Base.metadata.sorted_tables:
        rows = (
            await connection.execute(text(f'SELECT array_agg(t)::text FROM "{table.name}" t'))
        ).scalar_one()
        if rows is not None:
            literal = str(rows).replace("'", "''")
            statements.append(
                f'INSERT INTO "{table.name}" SELECT * FROM unnest(\'{literal}\'::"{table.name}"[])'
            )
    for numbered, column in _NUMBERED:
        sequence = (
            await connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": numbered, "column": column},
            )
        ).scalar_one()
        last_value, is_called = (
            await connection.execute(text(f"SELECT last_value, is_called FROM {sequence}"))
        ).one()
        statements.append(f"SELECT setval('{sequence}', {last_value}, {is_called})")
    return ";\n".join(statements)


async def _run_script(connection: AsyncConnection, script: str) -> None:
    """Several statements in one message (PostgreSQL's simple query protocol), which the
    server runs as one transaction."""
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.execute(script)


def _forget_cached_catalog(container: Container) -> None:
    container.catalog.invalidate()
    container.plans_body = None
    # Its order numbers were reserved from a sequence the emptying restarted.
    container.memory.orders.forget()
    container.memory.placed.forget()  # their numbers are given again


# (table, column) of every id the database numbers, as app/db/emptying.py restarts them.
_NUMBERED = [
    (table.name, column.name)
    for table in Base.metadata.sorted_tables
    for column in table.primary_key.columns
    if isinstance(column.type, Integer) and column.autoincrement is True
]
_EMPTY_SCRIPT = ";\n".join(
    [f'DELETE FROM "{table.name}"' for table in reversed(Base.metadata.sorted_tables)]
    + [
        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), 1, false)"
        for table, column in _NUMBERED
    ]
)
