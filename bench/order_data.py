"""The orders benchmark's data: one account with a mailbox per order (by COPY), the
bodies it sends, the baseline's rows, and the SQL counts that prove exactly once.

The holder and consents are the bench's own (not the tests'): what a customer sends.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta

import asyncpg

from bench.bench_app import asyncpg_dsn

BENCH_ACCOUNT = "acc-bench"
EXPIRES_IN_DAYS = 40  # inside the renewal window, nowhere near the grace period
BASELINE_TABLE = "bench_order_baseline"
INSERT_SQL = (
    f"INSERT INTO {BASELINE_TABLE} (id, owner, amount, created_at, document) "
    "VALUES ($1, $2, $3, $4, $5)"
)
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
            await connection.execute(
                f"CREATE TABLE {BASELINE_TABLE} (id text PRIMARY KEY, owner text NOT NULL, "
                "amount integer NOT NULL, created_at timestamptz NOT NULL, document jsonb NOT NULL)"
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return time.perf_counter() - started


def order_body(quote_id: str) -> bytes:
    return json.dumps(
        {
            "quote_id": quote_id,
            "holder": HOLDER,
            "payment_method": "bank_transfer",
            "consents": CONSENTS,
        }
    ).encode()


def baseline_document(i: int) -> str:
    """About what an order's `document` holds for one mailbox."""
    return json.dumps(
        {
            "holder": {**HOLDER, "country": "IT"},
            "billing": {"e_invoicing": None, "public_administration": None},
            "consents": {**CONSENTS, "version": "2026-01", "accepted_at": "2026-06-01"},
            "acknowledge_archive_deletion": False,
            "items": [
                {
                    "mailbox_id": mailbox_id(i),
                    "address": f"bench-{i:07d}@pec.example.it",
                    "current_plan": "STANDARD",
                    "target_plan": "STANDARD",
                    "extra_mailbox_gb": 0,
                    "extra_archive_gb": 0,
                    "deletes_archive": False,
                    "quoted_new_expiry": "2027-07-11",
                }
            ],
        }
    )


async def database_counts(connection: asyncpg.Connection, renewed_expiry: date) -> dict[str, int]:
    events = await connection.fetchrow(
        "SELECT count(*) AS total, "
        "count(*) FILTER (WHERE processed_at IS NOT NULL AND outcome = 'fulfil') AS fulfil, "
        "count(DISTINCT order_id) AS orders "
        "FROM payment_events WHERE provider = 'generic'"
    )
    orders = await connection.fetchrow(
        "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'FULFILLED') AS fulfilled "
        "FROM orders WHERE owner_id = $1",
        BENCH_ACCOUNT,
    )
    renewed = await connection.fetchval(
        "SELECT count(*) FROM mailboxes WHERE account_id = $1 AND expires_on = $2",
        BENCH_ACCOUNT,
        renewed_expiry,
    )
    outbox = dict(await connection.fetch("SELECT kind, count(*) FROM outbox GROUP BY kind"))
    return {
        "events": events["total"],
        "events_fulfil": events["fulfil"],
        "events_orders": events["orders"],
        "orders": orders["total"],
        "fulfilled": orders["fulfilled"],
        "renewed": renewed,
        "pending": await connection.fetchval("SELECT count(*) FROM pending_renewals"),
        "platform_messages": outbox.get("mail_platform", 0),
        "emails": outbox.get("email", 0),
    }
