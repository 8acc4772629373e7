"""The scale run's verdicts: what PostgreSQL and the loopback receivers say happened.

"Delivered once", given that the outbox is at-least-once with a dedupe key
(app/services/outbox_delivery.py): every outbox message is marked delivered, its key
reached its receiver (none missing), and no key arrived more often than the outbox
recorded attempts for it. A second copy is legitimate only as the retry of an attempt
the worker saw fail or lose its lease; the receiver dedupes that by key. A copy with
no such attempt behind it (two workers sending the same message) is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from app.domain.calendar import add_years
from bench.loopback_peers import Inbox, MailPlatform, email_message_id
from bench.order_data import BENCH_ACCOUNT, mailbox_id
from bench.scale_traffic import Acks, years_for

EMAIL = "email"
MAIL_PLATFORM = "mail_platform"
DELIVERED_KINDS = (EMAIL, MAIL_PLATFORM)  # the kinds the loopback receivers stand in for
PROGRESS_EVERY = 10.0  # seconds between two progress lines while the outbox drains


@dataclass(frozen=True)
class Check:
    what: str
    observed: str
    expected: str
    ok: bool


def check(what: str, observed: object, expected: object, ok: bool | None = None) -> Check:
    """A row of the report; `ok` defaults to observed == expected."""
    met = observed == expected if ok is None else ok
    return Check(what, f"{observed}", f"{expected}", met)


# ---------------------------------------------------------------- the database


@contextlib.asynccontextmanager
async def connected(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the run's own, for one step (not held across the traffic)."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        yield connection
    finally:
        await connection.close()


async def deadlocks(connection: asyncpg.Connection, database: str) -> int:
    await connection.execute("SELECT pg_stat_clear_snapshot()")
    count = await connection.fetchval(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = $1", database
    )
    return int(count or 0)


async def outbox_pending(connection: asyncpg.Connection) -> tuple[int, int]:
    """Undelivered messages of the receivers' kinds, and payment events not yet applied."""
    undelivered = await connection.fetchval(
        "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND kind = ANY($1::text[])",
        list(DELIVERED_KINDS),
    )
    unprocessed = await connection.fetchval(
        "SELECT count(*) FROM payment_events WHERE processed_at IS NULL"
    )
    return int(undelivered), int(unprocessed)


async def wait_until_drained(
    connection: asyncpg.Connection,
    timeout: float,
    say: Callable[[str], None] = print,
    quiet_for: float = 1.5,
) -> float | None:
    """Seconds until nothing was left to deliver or apply, and it stayed so for
    `quiet_for` (a worker pass may queue more: a sweep's reminder); None on timeout."""
    started = time.monotonic()
    quiet_since: float | None = None
    progress_at = started + PROGRESS_EVERY
    while time.monotonic() - started < timeout:
        now = time.monotonic()
        pending = await outbox_pending(connection)
        if now >= progress_at:
            say(f"  {now - started:.0f} s: {pending[0]} to deliver, {pending[1]} events to apply")
            progress_at += PROGRESS_EVERY
        if pending == (0, 0):
            quiet_since = quiet_since or now
            if now - quiet_since >= quiet_for:
                return quiet_since - started
        else:
            quiet_since = None
        await asyncio.sleep(0.2)
    return None


@dataclass(frozen=True)
class OutboxRow:
    kind: str
    dedupe_key: str
    attempts: int
    delivered: bool
    mailbox_id: str | None
    action: str | None


@dataclass(frozen=True)
class DatabaseFacts:
    events: int
    distinct_event_ids: int
    events_fulfilled: int  # processed once, outcome 'fulfil'
    event_orders: int  # distinct orders the events name
    orders: Counter[str]  # the bench account's orders by status
    expiries: dict[str, date]  # bench mailbox id -> expires_on
    outbox: list[OutboxRow]


async def database_facts(connection: asyncpg.Connection) -> DatabaseFacts:
    events = await connection.fetchrow(
        "SELECT count(*) AS total, count(DISTINCT event_id) AS ids, "
        "count(*) FILTER (WHERE processed_at IS NOT NULL AND outcome = 'fulfil') AS fulfil, "
        "count(DISTINCT order_id) AS orders FROM payment_events WHERE provider = 'generic'"
    )
    orders = await connection.fetch(
        "SELECT status, count(*) FROM orders WHERE owner_id = $1 GROUP BY status", BENCH_ACCOUNT
    )
    expiries = await connection.fetch(
        "SELECT id, expires_on FROM mailboxes WHERE account_id = $1", BENCH_ACCOUNT
    )
    outbox = await connection.fetch(
        "SELECT kind, dedupe_key, attempts, delivered_at IS NOT NULL AS delivered, "
        "payload->>'mailbox_id' AS mailbox_id, payload->>'action' AS action FROM outbox"
    )
    return DatabaseFacts(
        events=events["total"],
        distinct_event_ids=events["ids"],
        events_fulfilled=events["fulfil"],
        event_orders=events["orders"],
        orders=Counter({row["status"]: row["count"] for row in orders}),
        expiries={row["id"]: row["expires_on"] for row in expiries},
        outbox=[OutboxRow(**dict(row)) for row in outbox],
    )


# ---------------------------------------------------------------- the checks


def traffic_checks(
    mailboxes: int, placed: int, acks: Sequence[Acks], statuses: Counter[int]
) -> list[Check]:
    sent_twice = sum(1 for a in acks if len(a.answers) > 1)
    applied_once = sum(1 for a in acks if a.applied == 1)
    duplicates_answered = sum(
        1 for a in acks for status, duplicate, _ in a.answers if status == 200 and duplicate
    )
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    return [
        check("orders placed (quote, then order)", placed, mailboxes),
        check("events answered 'applied' by exactly one delivery", applied_once, len(acks)),
        check("  of them sent twice at once, to two processes", sent_twice, sent_twice, True),
        check("  second copies answered 'duplicate'", duplicates_answered, sent_twice),
        check("5xx answers (all requests)", server_errors, 0),
        check("requests without an answer", statuses.get(0, 0), 0),
    ]


def event_checks(
    facts: DatabaseFacts, acks: Sequence[Acks], original_expiry: date, mailboxes: int
) -> list[Check]:
    events = len(acks)
    paid_years = {mailbox_id(a.event.index): years_for(a.event.index) for a in acks}
    moved_exactly = sum(
        1
        for box, expires_on in facts.expiries.items()
        if expires_on == add_years(original_expiry, paid_years.get(box, 0))
    )
    return [
        check("payment_events stored", facts.events, events),
        check("  distinct event ids", facts.distinct_event_ids, events),
        check("  processed, outcome 'fulfil'", facts.events_fulfilled, events),
        check("  distinct orders they name", facts.event_orders, events),
        check("orders FULFILLED", facts.orders.get("FULFILLED", 0), events),
        check(
            "  orders in any other status",
            sum(facts.orders.values()) - facts.orders.get("FULFILLED", 0),
            0,
        ),
        check("mailboxes whose expiry moved by exactly the years paid", moved_exactly, mailboxes),
    ]


@dataclass(frozen=True)
class Deliveries:
    """One kind's outbox against what its receiver counted, by dedupe key."""

    kind: str
    queued: int
    undelivered: int
    missing: int  # queued, never received
    twice: int  # received more often than attempted: a real duplicate
    retried: int  # received again after a recorded failed attempt (at-least-once)
    unknown: int  # received, never queued


def compare(
    kind: str, rows: Sequence[OutboxRow], received: Counter[str], key_of: str
) -> Deliveries:
    own = [row for row in rows if row.kind == kind]
    expected = {_receiver_key(row.dedupe_key, key_of): row for row in own}
    counts = [received.get(key, 0) for key in expected]
    return Deliveries(
        kind=kind,
        queued=len(own),
        undelivered=sum(1 for row in own if not row.delivered),
        missing=sum(1 for n in counts if n == 0),
        twice=sum(
            1 for key, row in expected.items() if received.get(key, 0) > max(row.attempts, 1)
        ),
        retried=sum(1 for key, row in expected.items() if 1 < received.get(key, 0) <= row.attempts),
        unknown=sum(n for key, n in received.items() if key not in expected),
    )


def _receiver_key(dedupe_key: str, key_of: str) -> str:
    return email_message_id(dedupe_key) if key_of == "message-id" else dedupe_key


def delivery_checks(
    facts: DatabaseFacts, inbox: Inbox, platform: MailPlatform, placed: int
) -> tuple[list[Check], list[Deliveries]]:
    platform_keys = platform.idempotency_keys(201)
    tallies = [
        compare(EMAIL, facts.outbox, inbox.message_ids(), "message-id"),
        compare(MAIL_PLATFORM, facts.outbox, platform_keys, "idempotency-key"),
    ]
    checks = []
    for t in tallies:
        checks += [
            check(f"{t.kind}: outbox messages left undelivered", t.undelivered, 0),
            check(f"  received, of {t.queued} queued: missing", t.missing, 0),
            check("  received more often than attempted", t.twice, 0),
            check("  received but never queued", t.unknown, 0),
        ]
    renewals: Counter[str] = Counter(
        row.mailbox_id
        for row in facts.outbox
        if row.kind == MAIL_PLATFORM
        and (row.action or "renewal") == "renewal"
        and row.mailbox_id in facts.expiries
    )
    checks.append(
        check(
            "bench mailboxes with exactly one renewal message",
            sum(1 for n in renewals.values() if n == 1),
            placed,
        )
    )
    others = Counter(row.kind for row in facts.outbox if row.kind not in DELIVERED_KINDS)
    if others:
        checks.append(check("outbox messages of other kinds (not counted)", dict(others), {}, True))
    return checks, tallies
