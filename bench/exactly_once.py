"""Proof in SQL that every payment webhook was stored and applied exactly once: counts
after the events, then the same counts after some are delivered again."""

from __future__ import annotations

from datetime import date

import asyncpg

from bench.order_data import BENCH_ACCOUNT

Check = tuple[str, str, bool]  # what, observed, as expected


async def database_counts(connection: asyncpg.Connection, renewed_expiry: date) -> dict[str, int]:
    """What the checks compare: events, orders, renewed mailboxes, outbox messages."""
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


def exactly_once_checks(counts: dict[str, int], placed: int) -> list[Check]:
    """Each order's event stored, applied and fulfilled once; nothing left pending."""
    checks: list[Check] = []
    for label, key, want in (
        ("payment_events rows", "events", placed),
        ("  processed, outcome 'fulfil'", "events_fulfil", placed),
        ("  distinct orders they name", "events_orders", placed),
        ("orders placed", "orders", placed),
        ("orders FULFILLED", "fulfilled", placed),
        ("mailboxes renewed by 1 year", "renewed", placed),
        ("mail platform messages", "platform_messages", placed),
        ("confirmation emails", "emails", placed),
        ("pending_renewals left", "pending", 0),
    ):
        checks.append((label, f"{counts[key]}", counts[key] == want))
    return checks


def unchanged_check(before: dict[str, int], after: dict[str, int]) -> Check:
    """The counts after re-delivering events must equal those before."""
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    return ("  counts unchanged after re-send", f"{changed or 'yes'}", not changed)
