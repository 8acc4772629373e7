"""PostgreSQL keeps one plan of each hot statement (app/db/fixed_rows.py).

A prepared statement is planned for its values five times; then PostgreSQL keeps a
generic plan unless its estimate is dearer. An array parameter in `unnest` or `= ANY`
made it dearer, and the quote's read and insert, the order's write and the payment's
write were planned again at every call: as much of PostgreSQL's CPU as running them.

Among 5,000 mailboxes (analyzed, so that a mailbox costs an index probe), seven are
quoted, quoted again, ordered and paid over HTTP on a pool of one
connection, whose prepared statements PostgreSQL then counts (pg_prepared_statements).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from sqlalchemy import text

from app.container import Container, build_container
from app.db.engine import make_engine
from app.main import create_app
from tests.api.helpers import put_mailbox
from tests.api.order_helpers import new_key, order_body, pay_in_full, quote_id_for
from tests.conftest import CUSTOMER

CALLS = 7  # past PostgreSQL's five custom plans
MANY = 5_000
# Each hot statement, by what only its SQL holds.
HOT = {
    "first quote's read": ("AS pending_owner_role",),
    "requote's insert": ("INSERT INTO quotes", "FROM mailboxes"),
    "order's write": ("INSERT INTO pending_renewals",),
    "payment's write": ("INSERT INTO payment_events",),
}

# The first payment records the order's holder on the account, in a transaction whose
# first statement also inserts the event, after its write from memory gave way.
EXTRA = {"payment's write": 1}


async def _many_mailboxes(client: httpx.AsyncClient, container: Container) -> None:
    """Thousands of mailboxes, analyzed: where a mailbox costs its index a probe, as in
    production. (Among a handful of rows, ten guessed cost no more than one.)"""
    await put_mailbox(client, "mbx-model", expires_on=date(2027, 1, 10))
    async with container.engine.begin() as connection:
        names = (
            await connection.execute(
                text(
                    "select column_name from information_schema.columns "
                    "where table_name = 'mailboxes' and table_schema = current_schema()"
                )
            )
        ).scalars()
        copied = [name for name in names if name not in ("id", "address")]
        columns = ", ".join(copied)
        await connection.execute(
            text(
                f"insert into mailboxes (id, address, {columns}) "
                f"select 'mbx-many-' || n, 'many-' || n || '@pec.example.it', {columns} "
                "from mailboxes, generate_series(1, :many) as n where id = 'mbx-model'"
            ),
            {"many": MANY},
        )
    async with container.engine.connect() as connection:
        await connection.execute(text("analyze"))


@pytest.fixture
async def one_connection(db: Container) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plans are PostgreSQL's")
    engine = make_engine(db.settings.database_url, pool_size=1)
    container = build_container(db.settings, clock=db.clock, engine=engine)
    transport = httpx.ASGITransport(app=create_app(container=container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http, container
    finally:
        await container.rate_limits.close()
        await engine.dispose()


async def test_postgresql_keeps_one_plan_of_each_hot_statement(
    one_connection: tuple[httpx.AsyncClient, Container],
) -> None:
    client, container = one_connection
    await _many_mailboxes(client, container)
    for number in range(CALLS):
        mailbox_id = f"mbx-plan-{number}"
        await put_mailbox(client, mailbox_id, expires_on=date(2027, 1, 10))
        items = [{"mailbox_id": mailbox_id}]
        await quote_id_for(client, CUSTOMER, items)  # read, then stored
        quote_id = await quote_id_for(client, CUSTOMER, items)  # priced from memory
        placed = await client.post(
            "/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER)
        )
        assert placed.status_code == 201, placed.text
        paid = await pay_in_full(client, placed.json(), event_id=f"evt-plan-{number}")
        assert paid.json()["outcome"] == "fulfil", paid.text

    async with container.engine.connect() as connection:
        prepared = (
            await connection.execute(
                text("select statement, generic_plans, custom_plans from pg_prepared_statements")
            )
        ).all()
    for name, markers in HOT.items():
        # A statement may come in variants (an order's write that also reserves the next
        # number): each is planned five times at most, then kept.
        found = [
            (row.generic_plans, row.custom_plans)
            for row in prepared
            if all(m in row.statement for m in markers)
        ]
        assert found, (name, [row.statement[:80] for row in prepared])
        assert all(custom <= 5 for _, custom in found), (name, found)
        assert sum(generic + custom for generic, custom in found) == CALLS + EXTRA.get(name, 0), (
            name,
            found,
        )
        assert max(generic for generic, _ in found) > 0, (name, found)
