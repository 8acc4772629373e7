"""The orders benchmark's data: one account with a mailbox per order (by COPY) and the
bodies it sends.

The holder and consents are the bench's own (not the tests'): what a customer sends.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta

import asyncpg

from app.domain.order import order_number
from bench.bench_app import asyncpg_dsn

BENCH_ACCOUNT = "acc-bench"
EXPIRES_IN_DAYS = 40  # inside the renewal window, nowhere near the grace period
HOLDER = {
    "kind": "person",
    "name": "Mario Rossi",
    "tax_code": "RSSMRA85T10A562S",
    "email": "mario.rossi@example.it",
    "address": "Via Roma 1",
    "postal_code": "00100",
    "city": "Roma",
    "province": "RM",
}
CONSENTS = {"terms": True, "unfair_terms": True, "privacy": True}
MAILBOX_COLUMNS = (
    "id",
    "address",
    "plan_code",
    "extra_mailbox_gb",
    "extra_archive_gb",
    "used_mailbox_mb",
    "used_archive_mb",
    "expires_on",
    "status",
    "auto_renewal",
    "auto_renewal_years",
    "account_id",
    "partner_id",
    "updated_at",
)


def mailbox_id(index: int) -> str:
    return f"mbx-bench-{index:07d}"


async def seed_bench_mailboxes(url: str, count: int, today: date, now: datetime) -> float:
    """One account and `count` STANDARD mailboxes, by COPY; the seconds it took."""
    started = time.perf_counter()
    expires_on = today + timedelta(days=EXPIRES_IN_DAYS)
    records = [
        (
            mailbox_id(i),
            f"bench-{i:07d}@pec.example.it",
            "STANDARD",
            0,
            0,
            300,
            0,
            expires_on,
            "ACTIVE",
            False,
            1,
            BENCH_ACCOUNT,
            None,
            now,
        )
        for i in range(count)
    ]
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO accounts (id, name, email, language) VALUES ($1, $2, $3, $4)",
                BENCH_ACCOUNT,
                "Bench Customer",
                "bench@example.it",
                "it",
            )
            await connection.copy_records_to_table(
                "mailboxes", records=records, columns=list(MAILBOX_COLUMNS)
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return time.perf_counter() - started


# The tables autovacuum would ANALYZE now, by its own rule: more rows changed since the
# last ANALYZE than its threshold plus its scale factor times the rows (the server's
# settings; reltuples is -1 for a table never analyzed).
_DUE_FOR_ANALYZE = """
SELECT quote_ident(s.schemaname) || '.' || quote_ident(s.relname)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
    + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
ORDER BY 1
"""


async def analyze_as_autovacuum(url: str) -> list[str]:
    """ANALYZE the tables autovacuum would analyze now; the names of those analyzed.

    These machines' PostgreSQL runs with autovacuum off. Without it the planner kept the
    statistics of a table as it was at the bench's one ANALYZE: the payment events and
    the orders empty, so every webhook's read scanned the whole payments table, a little
    longer each round (32.8 M rows read over one `make bench`). A live database has
    autovacuum on; the bench does its work at its own untimed moments, by the same rule.
    """
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        due = [row[0] for row in await connection.fetch(_DUE_FOR_ANALYZE)]
        if due:
            await connection.execute(f"ANALYZE {', '.join(due)}")
        return due
    finally:
        await connection.close()


def order_body(quote_id: str) -> bytes:
    return json.dumps(
        {
            "quote_id": quote_id,
            "holder": HOLDER,
            "payment_method": "bank_transfer",
            "consents": CONSENTS,
        }
    ).encode()


async def awaiting_payment(connection: asyncpg.Connection) -> list[tuple[str, int, str]]:
    """The bench account's unpaid orders, oldest first: number, payable cents, currency."""
    rows = await connection.fetch(
        "SELECT seq, created_at, payable_cents, currency FROM orders "
        "WHERE owner_id = $1 AND status = 'AWAITING_PAYMENT' ORDER BY seq",
        BENCH_ACCOUNT,
    )
    return [
        (order_number(row["seq"], row["created_at"]), row["payable_cents"], row["currency"])
        for row in rows
    ]
