"""Orders and payment webhooks under wrk, by replay of pre-built requests.

Setup, untimed: a quote per bench mailbox through the API (a mailbox holds one unpaid
order, so each order has its own). Then, each request sent exactly once by wrk:
1. POST /v1/orders, one per quote, each with its own Idempotency-Key: a warm-up share,
   the timed share at the high connection count, another at the low one.
2. A signed `generic` payment.succeeded per order (Standard Webhooks, signed just before
   the replay: the signature holds for 5 minutes), in the same three shares.
3. SQL proves each event was stored and applied exactly once; some are delivered again,
   must answer `duplicate` and change nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import asyncpg
import httpx

from app.adapters.webhook_signing import generic_payment, generic_signed
from app.domain.money import Money
from bench.bench_app import asyncpg_dsn
from bench.exactly_once import Check, database_counts, exactly_once_checks, unchanged_check
from bench.order_data import awaiting_payment, mailbox_id, order_body
from bench.wrk import Load, Loader, Request

WEBHOOK_PATH = "/v1/webhooks/payments/generic"
APPLIED = '"outcome":"fulfil"'
DUPLICATE = '"duplicate":true'
SETUP_CONCURRENCY = 16


@dataclass(frozen=True)
class Sizes:
    """Orders (and webhooks) per share: warm-up, timed at high and at low connections."""

    warmup: int
    timed: int
    low: int
    duplicates: int

    @property
    def total(self) -> int:
        return self.warmup + self.timed + self.low

    def split(self, items: Sequence[Request]) -> tuple[list[Request], ...]:
        w, t = self.warmup, self.warmup + self.timed
        return list(items[:w]), list(items[w:t]), list(items[t : self.total])


@dataclass
class OrderFlow:
    orders: Load  # at the high connection count
    orders_low: Load
    webhooks: Load
    webhooks_low: Load
    duplicates: Load
    checks: list[Check] = field(default_factory=list)

    @property
    def exactly_once(self) -> bool:
        return all(ok for _, _, ok in self.checks)


async def make_quotes(base: str, auth: dict[str, str], count: int) -> list[str]:
    """A quote per bench mailbox, through the API: their ids."""
    limits = httpx.Limits(max_connections=SETUP_CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        semaphore = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def quote(i: int) -> str:
            body = {"years": 1, "items": [{"mailbox_id": mailbox_id(i)}]}
            async with semaphore:
                response = await client.post("/v1/quotes", json=body, headers=auth)
            answer = response.json()
            if response.status_code != 201 or answer.get("status") != "ok":
                raise RuntimeError(f"quote for {mailbox_id(i)}: {response.status_code} {answer}")
            return str(answer["id"])

        return list(await asyncio.gather(*(quote(i) for i in range(count))))


def order_requests(quote_ids: Sequence[str], auth: dict[str, str]) -> list[Request]:
    """An order per quote, paid by bank transfer, each with its own Idempotency-Key."""
    headers = tuple(auth.items())
    return [
        Request(
            "POST",
            "/v1/orders",
            order_body(quote_id),
            (*headers, ("Idempotency-Key", f"bench-{uuid.uuid4().hex}")),
        )
        for quote_id in quote_ids
    ]


def webhook_requests(
    unpaid: Sequence[tuple[str, int, str]], secret: str, at: datetime
) -> list[Request]:
    """A signed payment.succeeded per order, as the generic provider sends it."""
    requests = []
    for number, cents, currency in unpaid:
        payload = generic_payment(
            "payment.succeeded", number, str(Money(cents, currency).amount), currency
        )
        body, headers = generic_signed(payload, secret, at, f"msg_bench_{uuid.uuid4().hex}")
        requests.append(Request("POST", WEBHOOK_PATH, body, tuple(headers.items())))
    return requests


async def _unpaid(url: str) -> list[tuple[str, int, str]]:
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        return await awaiting_payment(connection)
    finally:
        await connection.close()


async def _counts(url: str, renewed_expiry: date) -> dict[str, int]:
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
    try:
        return await database_counts(connection, renewed_expiry)
    finally:
        await connection.close()


def _answered(load: Load, status: int, expected: int, label: str) -> Check:
    got = load.statuses.get(status, 0)
    return (label, f"{got} of {expected}", got == expected == load.requests)


def run_order_flow(
    loader: Loader,
    database_url: str,
    auth: dict[str, str],
    webhook_secret: str,
    sizes: Sizes,
    connections: tuple[int, int],
    renewed_expiry: date,
) -> OrderFlow:
    """Orders then webhooks, each at (high, low) connections; the exactly-once checks."""
    high, low = connections
    print(f"  POST /v1/quotes x{sizes.total} (setup, untimed) ...", flush=True)
    quote_ids = asyncio.run(make_quotes(loader.base, auth, sizes.total))
    warm, timed, slow = sizes.split(order_requests(quote_ids, auth))
    print(f"  POST /v1/orders x{len(warm)} + {len(timed)} + {len(slow)} (replay) ...", flush=True)
    warm_orders = loader.replay(warm, "orders warm-up", high)
    orders = loader.replay(timed, "POST /v1/orders", high)
    orders_low = loader.replay(slow, "POST /v1/orders", low)

    unpaid = asyncio.run(_unpaid(database_url))
    hooks = webhook_requests(unpaid, webhook_secret, datetime.now(UTC))
    warm, timed, slow = sizes.split(hooks)
    print(f"  POST {WEBHOOK_PATH} x{len(warm)} + {len(timed)} + {len(slow)} ...", flush=True)
    warm_hooks = loader.replay(warm, "webhooks warm-up", high, APPLIED)
    webhooks = loader.replay(timed, "payment webhook", high, APPLIED)
    webhooks_low = loader.replay(slow, "payment webhook", low, APPLIED)

    placed = sum(load.statuses.get(201, 0) for load in (warm_orders, orders, orders_low))
    before = asyncio.run(_counts(database_url, renewed_expiry))
    again = timed[:: max(1, len(timed) // sizes.duplicates)][: sizes.duplicates]
    print(f"  POST {WEBHOOK_PATH} x{len(again)} (delivered again) ...", flush=True)
    duplicates = loader.replay(again, "webhook duplicate", high, DUPLICATE)
    after = asyncio.run(_counts(database_url, renewed_expiry))

    checks = [
        _answered(orders, 201, sizes.timed, "orders answered 201 (timed)"),
        ("orders placed, all shares", f"{placed} of {sizes.total}", placed == sizes.total),
        ("unpaid orders found for webhooks", f"{len(hooks)}", len(hooks) == sizes.total),
        (
            "webhooks answered 'fulfil'",
            f"{warm_hooks.matched + webhooks.matched + webhooks_low.matched}",
            warm_hooks.matched + webhooks.matched + webhooks_low.matched == sizes.total,
        ),
        *exactly_once_checks(before, len(hooks)),
        (f"re-sent {len(again)}: answered duplicate", f"{duplicates.matched}",
         duplicates.matched == len(again) == duplicates.statuses.get(200, 0)),
        unchanged_check(before, after),
    ]  # fmt: skip
    return OrderFlow(orders, orders_low, webhooks, webhooks_low, duplicates, checks)
