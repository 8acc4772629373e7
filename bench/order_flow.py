"""Orders and payment webhooks under wrk, by replay of pre-built requests, in rounds.

Setup, untimed, before each share of orders: a quote per mailbox of the share through
the API (a mailbox holds one unpaid order, so each order has its own), an order request
for each, with its own Idempotency-Key. As a frontend does, the order follows its quote
within seconds (and so finds it in the api process's memory: app/db/order_memory.py).
Then each request is sent exactly once by wrk:
1. A warm-up share of orders, then a signed `generic` payment.succeeded for each.
2. In each round (between the steady endpoints' rounds, so its CPU compares with theirs):
   POST /v1/orders, a timed share at the high connection count and another at the low
   one; then a payment webhook for each order of the round (Standard Webhooks, signed
   just before the replay: the signature holds for 5 minutes), in the same two shares.
   Each timed share follows its lead-in, untimed: one request per connection, replayed
   just before it, as a steady run follows its warm-up (`OrderReplay._replayed`).
3. SQL proves each event was stored and applied exactly once; some are delivered again,
   must answer `duplicate` and change nothing. A delivery again is signed again, as a
   provider signs each attempt: the same id and body, the time of the attempt (the
   rounds can outlast the signature's 5 minutes of tolerance).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.adapters.webhook_signing import generic_payment, generic_signed
from app.domain.money import Money
from bench.bench_app import asyncpg_dsn
from bench.exactly_once import Check, database_counts, exactly_once_checks, unchanged_check
from bench.order_data import analyze_as_autovacuum, awaiting_payment, mailbox_id, order_body
from bench.wrk import Load, Loader, Request

WEBHOOK_PATH = "/v1/webhooks/payments/generic"
APPLIED = '"outcome":"fulfil"'
DUPLICATE = '"duplicate":true'
SETUP_CONCURRENCY = 16
WRITE_GROUPS = "database_write_groups_total"
GROUPED_WRITES = "database_grouped_writes_total"


@dataclass(frozen=True)
class Sizes:
    """Orders (and webhooks): two warm-up shares before the first round, a timed share at
    the high connection count and one at the low in every round, and how many webhooks
    are delivered again at the end."""

    warmup: int
    timed: int  # per round
    low: int  # per round
    duplicates: int

    def total(self, rounds: int, connections: tuple[int, int]) -> int:
        """Every order the run places: warm-ups, and each round's shares with their
        lead-ins (`lead_in`) at the (high, low) connection counts."""
        high, low = connections
        per_round = self.timed + lead_in(high, self.timed) + self.low + lead_in(low, self.low)
        return 2 * self.warmup + rounds * per_round


def lead_in(connections: int, share: int) -> int:
    """The untimed requests sent just before a timed share of `share`: one per connection,
    never more than the share itself."""
    return min(connections, share)


@dataclass
class OrderFlow:
    """Each round's loads by connection count, the re-sent webhooks, the SQL checks."""

    orders: dict[int, list[Load]]
    webhooks: dict[int, list[Load]]
    duplicates: Load
    checks: list[Check] = field(default_factory=list)
    # The product server's counters at the end (server_counters)
    counted: dict[str, float] = field(default_factory=dict)

    @property
    def exactly_once(self) -> bool:
        return all(ok for _, _, ok in self.checks)


async def make_quotes(base: str, auth: dict[str, str], mailboxes: range) -> list[str]:
    """A quote per bench mailbox (by number), through the API: their ids."""
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

        return list(await asyncio.gather(*(quote(i) for i in mailboxes)))


async def server_counters(base: str) -> dict[str, float]:
    """The product server's counts that say what its memory and its group commit did:
    orders_from_memory_total by outcome (app/db/order_memory.py), payments_from_memory_total
    (as payments_<outcome>: app/db/placed_order_memory.py), and the groups and
    grouped writes of the group commit (app/db/group_commit.py)."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        response = await client.get("/metrics")
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "orders_from_memory_total":
                found[sample.labels["outcome"]] = sample.value
            elif sample.name == "payments_from_memory_total":
                found[f"payments_{sample.labels['outcome']}"] = sample.value
            elif sample.name in (WRITE_GROUPS, GROUPED_WRITES):
                found[sample.name] = sample.value
    return found


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


def resigned(webhook: Request, secret: str, at: datetime) -> Request:
    """The same event delivered again at `at`: its id and body, signed at that time."""
    headers = dict(webhook.headers)
    payload = json.loads(webhook.body)
    body, signed = generic_signed(payload, secret, at, headers["webhook-id"])
    if body != webhook.body:
        raise RuntimeError("a webhook's body did not survive signing it again")
    return Request(webhook.method, webhook.path, body, tuple(signed.items()))


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


def _answered(loads: Sequence[Load], status: int, expected: int, label: str) -> Check:
    got = sum(load.statuses.get(status, 0) for load in loads)
    sent = sum(load.requests for load in loads)
    return (label, f"{got} of {expected}", got == expected == sent)


class OrderReplay:
    """Orders and their webhooks on one server: `warm_up` once, `round` as many times as
    the plan says (each takes the next pre-built share), then `finish` for the proof."""

    def __init__(
        self,
        loader: Loader,
        database_url: str,
        auth: dict[str, str],
        webhook_secret: str,
        sizes: Sizes,
        connections: tuple[int, int],
        renewed_expiry: date,
    ) -> None:
        self.loader = loader
        self.database_url = database_url
        self.auth = auth
        self.webhook_secret = webhook_secret
        self.sizes = sizes
        self.high, self.low = connections
        self.renewed_expiry = renewed_expiry
        self.rounds = 0
        self.quoted = 0  # the bench mailboxes quoted so far, in order
        self.placing: list[Load] = []  # every share of orders, warm-ups and lead-ins included
        self.paying: list[Load] = []  # every share of webhooks, warm-ups and lead-ins included
        self.orders: dict[int, list[Load]] = {self.high: [], self.low: []}
        self.webhooks: dict[int, list[Load]] = {self.high: [], self.low: []}
        self.timed_webhooks: list[Request] = []
        self.signed = 0  # webhooks built: one per order found awaiting payment

    def warm_up(self, rounds: int) -> None:
        """Two warm-up shares of orders and their webhooks sent, the planner's statistics
        taken between them, and never again.

        A database in use holds orders and payments, and its statistics say so (these
        machines' PostgreSQL runs with autovacuum off: analyze_as_autovacuum). Taken
        once the first share is in, they give the plans of a table in use (an index for
        each lookup), which hold as the rounds add rows. Taken again before each share,
        as autovacuum would in a database this new, every ANALYZE made each pooled
        connection plan its statements again at the start of a timed share. The second
        share makes those plans, untimed."""
        self.rounds = rounds
        for share in (1, 2):
            warm = self._take(self.sizes.warmup, analyzed=True)
            label = f"warm-up {share}"
            print(f"  POST /v1/orders and webhooks x{len(warm)} ({label}) ...", flush=True)
            self.placing.append(self.loader.replay(warm, f"orders {label}", self.high))
            hooks = self._webhooks(analyzed=True)
            self.paying.append(self.loader.replay(hooks, f"webhooks {label}", self.high, APPLIED))

    def round(self) -> None:
        """The next share of orders at high then low connections, then their webhooks."""
        sizes = ((self.high, self.sizes.timed), (self.low, self.sizes.low))
        for connections, size in sizes:
            self.orders[connections].append(self.place(size, connections))
        hooks = self._webhooks()
        for connections, size in sizes:
            lead = lead_in(connections, size)
            share, hooks = hooks[: lead + size], hooks[lead + size :]
            if connections == self.high:
                self.timed_webhooks += share[lead:]
            load = self._replayed(share, lead, "payment webhook", connections, APPLIED)
            self.webhooks[connections].append(load)

    def place(self, count: int, connections: int) -> Load:
        """The next `count` orders (each quoted just before), replayed at `connections`
        after their lead-in."""
        lead = lead_in(connections, count)
        return self._replayed(self._take(lead + count), lead, "POST /v1/orders", connections)

    def pay(self, connections: int) -> Load:
        """A signed webhook for each order awaiting payment (a share placed by `place` and
        its lead-in), replayed at `connections` after a lead-in of their own."""
        hooks = self._webhooks()
        lead = lead_in(connections, len(hooks) // 2)
        return self._replayed(hooks, lead, "payment webhook", connections, APPLIED)

    def _replayed(
        self,
        requests: list[Request],
        lead: int,
        label: str,
        connections: int,
        match: str | None = None,
    ) -> Load:
        """`requests` after the first `lead`, replayed and timed; the first `lead` just
        before them, by a replay of their own, untimed: the lead-in.

        A steady run starts with its warm-up, and a timed share with its lead-in, so that
        its first requests don't pay for what the setup left cold: a PostgreSQL connection
        that has never sent the write parses and plans it, some 5 ms that every first
        request of a share at 8 connections waited through (docs/benchmarks.md, "The
        first requests of a share"). Both replays count towards what was placed and paid.
        """
        shares = self.placing if match is None else self.paying
        if lead:
            ahead = self.loader.replay(requests[:lead], f"{label} (lead-in)", connections, match)
            shares.append(ahead)
        load = self.loader.replay(requests[lead:], label, connections, match)
        shares.append(load)
        return load

    def finish(self) -> OrderFlow:
        """Some webhooks delivered again, and the SQL proof of exactly once."""
        before = asyncio.run(_counts(self.database_url, self.renewed_expiry))
        duplicates = self.sizes.duplicates
        again = self.timed_webhooks[:: max(1, len(self.timed_webhooks) // duplicates)]
        now = datetime.now(UTC)
        again = [resigned(hook, self.webhook_secret, now) for hook in again[:duplicates]]
        print(f"  POST {WEBHOOK_PATH} x{len(again)} (delivered again) ...", flush=True)
        resent = self.loader.replay(again, "webhook duplicate", self.high, DUPLICATE)
        after = asyncio.run(_counts(self.database_url, self.renewed_expiry))
        placed = sum(load.statuses.get(201, 0) for load in self.placing)
        applied = sum(load.matched for load in self.paying)
        built = self.sizes.total(self.rounds, (self.high, self.low))
        timed = [*self.orders[self.high], *self.orders[self.low]]
        in_rounds = self.rounds * (self.sizes.timed + self.sizes.low)
        checks = [
            _answered(timed, 201, in_rounds, "orders answered 201 (timed)"),
            ("orders placed, all shares", f"{placed} of {built}", placed == built),
            ("unpaid orders found for webhooks", f"{self.signed}", self.signed == placed),
            ("webhooks answered 'fulfil'", f"{applied}", applied == placed),
            *exactly_once_checks(before, self.signed),
            (f"re-sent {len(again)}: answered duplicate", f"{resent.matched}",
             resent.matched == len(again) == resent.statuses.get(200, 0)),
            unchanged_check(before, after),
        ]  # fmt: skip
        counted = asyncio.run(server_counters(self.loader.base))
        return OrderFlow(self.orders, self.webhooks, resent, checks, counted)

    def _take(self, count: int, analyzed: bool = False) -> list[Request]:
        """`count` order requests, for the next `count` mailboxes quoted just now; with
        `analyzed`, the tables autovacuum would analyze now analyzed first (untimed)."""
        mailboxes = range(self.quoted, self.quoted + count)
        self.quoted += count
        quote_ids = asyncio.run(make_quotes(self.loader.base, self.auth, mailboxes))
        if analyzed:  # planned on the empty quotes table, an order's quote lookup read them all
            asyncio.run(analyze_as_autovacuum(self.database_url))
        return order_requests(quote_ids, self.auth)

    def _webhooks(self, analyzed: bool = False) -> list[Request]:
        """A payment webhook for each order awaiting payment, signed now (`analyzed`: as
        in `_take`)."""
        if analyzed:
            asyncio.run(analyze_as_autovacuum(self.database_url))
        unpaid = asyncio.run(_unpaid(self.database_url))
        self.signed += len(unpaid)
        return webhook_requests(unpaid, self.webhook_secret, datetime.now(UTC))
