"""Orders and payment webhooks against docs/performance.md's targets: prints numbers only.

uv run python -m bench.orders [--orders 2000] [--concurrency 32] [--warmup 64]

1. Setup: a throw-away PostgreSQL database (TEST_DATABASE_URL's server), migrated, seeded
   with the demo (price list) plus one bench account and one mailbox per order (COPY): a
   mailbox holds one unpaid order at a time. ONE uvicorn worker runs `bench.bench_app`;
   the quotes are made through it (timed apart, not a target).
2. Orders: POST /v1/orders for every quote (bank transfer, distinct Idempotency-Keys)
   from one httpx.AsyncClient, `--concurrency` requests in flight.
3. Baseline, same run and database: single-row autocommit INSERTs of a small order-like
   row from a raw asyncpg pool of `--concurrency` connections.
4. Webhooks: one signed `generic` payment.succeeded per order, then SQL proves each was
   stored and applied exactly once; 200 of them are sent again and nothing may change.

`--warmup` extra orders (and their webhooks, and as many baseline INSERTs) run untimed
first, so every pooled connection has its statements prepared before the clock starts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import json
import os
import secrets
import shlex
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import uvloop

from app.adapters.webhook_signing import generic_payment, generic_signed
from app.auth import issue_dev_token
from app.domain.access import Role
from app.domain.calendar import add_years, italian_date
from app.settings import Settings
from bench.bench_app import asyncpg_dsn
from bench.harness import (
    BenchDatabase,
    demo_database,
    free_port,
    print_versions,
    running_server,
    server_command,
    verdict,
    wait_ready,
)
from bench.measure import (
    Answer,
    CpuSnapshot,
    Phase,
    post,
    run_concurrently,
    tally,
    timed_phase,
)
from bench.order_data import (
    BASELINE_TABLE,
    BENCH_ACCOUNT,
    EXPIRES_IN_DAYS,
    INSERT_SQL,
    baseline_document,
    database_counts,
    mailbox_id,
    order_body,
    seed_bench_mailboxes,
)

# httpcore imports `sniffio` on every request to tell asyncio from trio. sniffio isn't
# installed here (anyio 4 no longer needs it), so each of those failed imports searches
# sys.path: ~20% of the client's CPU, taken from the cores the server and PostgreSQL
# need. A None entry in sys.modules fails that import at once (this process only).
if importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

# Targets from docs/performance.md.
ORDERS_VS_INSERTS = 0.25
WEBHOOKS_PER_S = 500

DUPLICATES = 200
WEBHOOK_PATH = "/v1/webhooks/payments/generic"
T = TypeVar("T")
Order = dict[str, Any]
Event = tuple[str, dict[str, Any]]  # webhook-id, payload
Check = tuple[str, str, bool]  # what, observed, as expected


def generic_webhook_secret() -> str:
    """Standard Webhooks wants `whsec_` + base64 of the key bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass
class RunResult:
    phases: list[Phase]
    checks: list[Check]
    exactly_once: bool
    inserts_rate: float
    orders_rate: float
    webhooks_rate: float


@dataclass
class Run:
    """One run: its two clients (customer and payment provider), its sizes, and the
    phases measured so far, in order."""

    client: httpx.AsyncClient
    provider: httpx.AsyncClient
    auth: dict[str, str]
    webhook_secret: str
    concurrency: int
    warmup: int
    timed: int
    database: BenchDatabase
    server_pgid: int
    phases: list[Phase] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.warmup + self.timed

    def meter(self) -> CpuSnapshot:
        return CpuSnapshot.take(self.server_pgid, self.database.name)

    async def phase(
        self, label: str, count: int, call: Callable[[int], Awaitable[T]]
    ) -> tuple[list[T], Phase]:
        return await timed_phase(label, count, self.concurrency, call, self.meter)

    async def warm_then_time(
        self, label: str, request: str, call: Callable[[int], Awaitable[Answer]], expected: int
    ) -> tuple[list[Answer], list[Answer], Phase]:
        """`call(i)` untimed for the warm-up indices, then timed for the rest: every
        answer, the timed answers, and the timed phase (kept in `phases`)."""
        warm: list[Answer] = []
        if self.warmup:
            print(f"  {request} x{self.warmup} (warm-up) ...", flush=True)
            warm, _ = await self.phase(f"{label} (warm-up)", self.warmup, call)
            tally(warm, expected)
        print(f"  {request} x{self.timed} ...", flush=True)
        timed, phase = await self.phase(label, self.timed, lambda i: call(self.warmup + i))
        phase.answers = tally(timed, expected)
        self.phases.append(phase)
        return warm + timed, timed, phase


# ---------------------------------------------------------------- phases


async def make_quotes(run: Run) -> list[str | None]:
    """A quote per mailbox (setup, timed apart): each one's id, None where not `ok`."""
    bodies = [
        json.dumps({"years": 1, "items": [{"mailbox_id": mailbox_id(i)}]}).encode()
        for i in range(run.total)
    ]
    print(f"  POST /v1/quotes x{run.total} (setup) ...", flush=True)
    answers, phase = await run.phase(
        "POST /v1/quotes (setup)",
        run.total,
        lambda i: post(run.client, "/v1/quotes", bodies[i], run.auth),
    )
    phase.answers = tally(answers, 201)
    run.phases.append(phase)
    quote_ids: list[str | None] = []
    for status, body in answers:
        quote = json.loads(body) if status == 201 else {}
        quote_ids.append(quote["id"] if quote.get("status") == "ok" else None)
    if None in quote_ids:
        print(f"    {quote_ids.count(None)} quotes missing or not 'ok': no order for them")
    return quote_ids


async def place_orders(
    run: Run, quote_ids: Sequence[str | None]
) -> tuple[list[Order | None], Phase]:
    """An order per quote, each with its own Idempotency-Key: the orders placed (None
    where none was), and the timed phase."""
    keys = [f"bench-{uuid.uuid4().hex}" for _ in quote_ids]
    bodies = [order_body(q) if q else b"" for q in quote_ids]

    async def place(i: int) -> Answer:
        if not bodies[i]:
            return -1, b"no quote"
        return await post(
            run.client, "/v1/orders", bodies[i], {**run.auth, "Idempotency-Key": keys[i]}
        )

    answers, _, phase = await run.warm_then_time("POST /v1/orders", "POST /v1/orders", place, 201)
    orders = [json.loads(body) if status == 201 else None for status, body in answers]
    placed = [o for o in orders if o is not None]
    statuses = Counter(o["status"] for o in placed)
    payables = Counter(o["payable"]["amount"] for o in placed)
    print(f"    orders placed: {len(placed)} {dict(statuses)}, payable {dict(payables)}")
    return orders, phase


async def baseline_inserts(run: Run) -> Phase:
    """The floor: an order-like row per order, one autocommit INSERT each, raw asyncpg."""
    now = datetime.now(UTC)
    rows = [
        (f"ord_{uuid.uuid4().hex}", BENCH_ACCOUNT, 1208, now, baseline_document(i))
        for i in range(run.total)
    ]
    pool = await asyncpg.create_pool(
        asyncpg_dsn(run.database.url), min_size=run.concurrency, max_size=run.concurrency
    )
    try:

        async def insert(i: int) -> str:
            return str(await pool.execute(INSERT_SQL, *rows[i]))

        if run.warmup:
            await run_concurrently(run.warmup, run.concurrency, insert)
        print(f"  asyncpg INSERT x{run.timed} (baseline) ...", flush=True)
        results, phase = await run.phase(
            "asyncpg INSERT (baseline)", run.timed, lambda i: insert(run.warmup + i)
        )
        phase.answers = Counter(results)
        run.phases.append(phase)
        return phase
    finally:
        await pool.close()


def payment_events(orders: Sequence[Order | None]) -> list[Event | None]:
    """One payment.succeeded per order, with its own webhook-id (None: no order)."""
    return [
        (
            f"msg_bench_{uuid.uuid4().hex}",
            generic_payment(
                "payment.succeeded", o["number"], o["payable"]["amount"], o["payable"]["currency"]
            ),
        )
        if o is not None
        else None
        for o in orders
    ]


def webhook_outcomes(answers: Sequence[Answer]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for status, body in answers:
        if status == 200:
            ack = json.loads(body)
            seen["duplicate" if ack["duplicate"] else str(ack["outcome"])] += 1
        else:
            seen[f"HTTP {status}"] += 1
    return seen


def webhook_sender(run: Run, events: Sequence[Event | None]) -> Callable[[int], Awaitable[Answer]]:
    """Sends event i signed at sending time, as a provider does (Standard Webhooks refuses
    timestamps more than 5 minutes off); a re-send is the same id and body, signed again."""

    async def deliver(i: int) -> Answer:
        event = events[i]
        if event is None:
            return -1, b"no order"
        event_id, payload = event
        body, headers = generic_signed(payload, run.webhook_secret, datetime.now(UTC), event_id)
        return await post(run.provider, WEBHOOK_PATH, body, headers)

    return deliver


async def send_webhooks(run: Run, deliver: Callable[[int], Awaitable[Answer]]) -> Phase:
    request = f"POST {WEBHOOK_PATH}"
    answers, timed, phase = await run.warm_then_time(
        "generic payment.succeeded", request, deliver, 200
    )
    phase.answers = webhook_outcomes(timed)
    print(f"    answers: {dict(webhook_outcomes(answers))}")
    return phase


def exactly_once_checks(counts: dict[str, int], total: int, placed: int) -> list[Check]:
    """Every order placed, and each one's event stored, applied and fulfilled once."""
    checks = [("orders placed (timed + warm-up)", f"{placed}", placed == total)]
    for label, key, want in (
        ("payment_events rows", "events", placed),
        ("  processed, outcome 'fulfil'", "events_fulfil", placed),
        ("  distinct orders they name", "events_orders", placed),
        ("orders FULFILLED", "fulfilled", placed),
        ("mailboxes renewed by 1 year", "renewed", placed),
        ("mail platform messages", "platform_messages", placed),
        ("confirmation emails", "emails", placed),
        ("pending_renewals left", "pending", 0),
    ):
        checks.append((label, f"{counts[key]}", counts[key] == want))
    return checks


async def resend(
    run: Run, events: Sequence[Event | None], deliver: Callable[[int], Awaitable[Answer]]
) -> tuple[int, Phase]:
    """Up to DUPLICATES of the events sent, spread over the run, sent again."""
    sent = [i for i, event in enumerate(events) if event is not None]
    again = sent[:: max(1, len(sent) // DUPLICATES)][:DUPLICATES]
    print(f"  POST {WEBHOOK_PATH} x{len(again)} (duplicates) ...", flush=True)
    answers, phase = await run.phase(
        "duplicates (same events)", len(again), lambda i: deliver(again[i])
    )
    phase.answers = webhook_outcomes(answers)
    run.phases.append(phase)
    return len(again), phase


async def prove_exactly_once(
    run: Run,
    events: Sequence[Event | None],
    deliver: Callable[[int], Awaitable[Answer]],
    placed: int,
    renewed_expiry: date,
) -> tuple[list[Check], bool]:
    """SQL counts after the webhooks, then again after re-sending some: the checks, and
    whether every one of them holds."""
    connection = await asyncpg.connect(asyncpg_dsn(run.database.url), timeout=5)
    try:
        first = await database_counts(connection, renewed_expiry)
        checks = exactly_once_checks(first, run.total, placed)
        sent_again, duplicates = await resend(run, events, deliver)
        second = await database_counts(connection, renewed_expiry)
    finally:
        await connection.close()
    all_duplicates = duplicates.answers == Counter({"duplicate": sent_again})
    unchanged = first == second
    if not unchanged:
        print(f"    before: {first}\n    after:  {second}")
    exactly_once = all(ok for _, _, ok in checks[1:]) and all_duplicates and unchanged
    checks += [
        (
            f"re-sent {sent_again}: answered duplicate",
            f"{duplicates.answers.get('duplicate', 0)}",
            all_duplicates,
        ),
        ("  counts unchanged after re-send", "yes" if unchanged else "NO", unchanged),
    ]
    return checks, exactly_once


async def run_phases(
    args: argparse.Namespace,
    database: BenchDatabase,
    base: str,
    token: str,
    webhook_secret: str,
    server_pgid: int,
    renewed_expiry: date,
) -> RunResult:
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client,
        httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as provider,
    ):
        run = Run(
            client,
            provider,
            auth,
            webhook_secret,
            args.concurrency,
            args.warmup,
            args.orders,
            database,
            server_pgid,
        )
        orders, orders_phase = await place_orders(run, await make_quotes(run))
        inserts_phase = await baseline_inserts(run)
        events = payment_events(orders)
        deliver = webhook_sender(run, events)
        webhooks_phase = await send_webhooks(run, deliver)
        placed = sum(o is not None for o in orders)
        checks, exactly_once = await prove_exactly_once(
            run, events, deliver, placed, renewed_expiry
        )
    return RunResult(
        run.phases,
        checks,
        exactly_once,
        inserts_phase.rate,
        orders_phase.rate,
        webhooks_phase.rate,
    )


# ---------------------------------------------------------------- setup and report


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="timed orders (and webhooks)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=64, help="untimed orders/webhooks first")
    args = parser.parse_args()
    if args.orders < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--orders and --concurrency must be >= 1, --warmup >= 0")
    return args


def seed_orders_data(database: BenchDatabase, total: int) -> date:
    """The bench account and its mailboxes: the expiry each will have once renewed."""
    now = datetime.now(UTC)
    today = italian_date(now)
    seconds = asyncio.run(seed_bench_mailboxes(database.url, total, today, now))
    print(
        f"seeded: demo price list and accounts; account {BENCH_ACCOUNT} with {total} "
        f"STANDARD mailboxes by COPY ({seconds:.2f} s); scratch table {BASELINE_TABLE}"
    )
    return add_years(today + timedelta(days=EXPIRES_IN_DAYS), 1)


def serve_and_run(
    args: argparse.Namespace, database: BenchDatabase, renewed_expiry: date
) -> tuple[RunResult, str]:
    """One uvicorn worker on the bench database, the phases against it: the result and
    the server's log."""
    jwt_secret = secrets.token_urlsafe(32)
    webhook_secret = generic_webhook_secret()
    token = issue_dev_token(jwt_secret, Role.CUSTOMER, BENCH_ACCOUNT)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "AUTH_JWT_SECRET": jwt_secret,
        "GENERIC_WEBHOOK_SECRET": webhook_secret,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_urlsafe(24),
        "LOG_LEVEL": "WARNING",
        "SANDBOX": "false",  # no worker loop beside the api
    }
    pool_size = env.get(
        "DATABASE_POOL_SIZE", f"{Settings.model_fields['database_pool_size'].default} (default)"
    )
    command = server_command(port)
    with tempfile.TemporaryDirectory(prefix="pec-bench-") as tmp:
        log = Path(tmp) / "server.log"
        print(f"server: {shlex.join(command)}")
        print(f"server database pool: DATABASE_POOL_SIZE={pool_size}")
        print(
            f"client: httpx {version('httpx')} AsyncClient, HTTP/1.1 keep-alive, "
            f"{args.concurrency} in flight; {args.orders} timed after {args.warmup} "
            "warm-up\n",
            flush=True,
        )
        with running_server(command, env, log) as server:
            wait_ready(base, server, log)
            result = uvloop.run(
                run_phases(args, database, base, token, webhook_secret, server.pid, renewed_expiry)
            )
            return result, log.read_text().strip()


def print_phases(phases: Sequence[Phase]) -> None:
    print(f"{'phase':<28}{'count':>7}{'sec':>8}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}  answers")
    for p in phases:
        answers = ", ".join(f"{k}×{v}" for k, v in sorted(p.answers.items(), key=str))
        print(
            f"{p.label:<28}{p.count:>7}{p.seconds:>8.2f}{p.rate:>9,.0f}"
            f"{p.percentile_ms(0.50):>9.1f}{p.percentile_ms(0.99):>9.1f}  {answers}"
        )
    cores = os.cpu_count() or 1
    print(f"\n{'CPU µs per operation':<28}{'server':>9}{'client':>9}{'pg':>9}{'other':>9}  busy")
    for p in phases:
        print(
            f"{p.label:<28}{p.per_op_us(p.cpu.server):>9,.0f}{p.per_op_us(p.cpu.client):>9,.0f}"
            f"{p.per_op_us(p.cpu.postgres):>9,.0f}{p.per_op_us(p.cpu.other):>9,.0f}"
            f"  {min(1.0, p.cpu.machine / (p.seconds * cores)):>4.0%}"  # ticks: 10 ms steps
        )
    print(
        "(latency as the client saw it. server: the uvicorn process group; client: this\n"
        " process, httpx or asyncpg; pg: the backends of the bench database; other: the rest\n"
        " of the machine (other users, PostgreSQL's shared processes, the kernel); busy: all\n"
        f" {cores} cores, from /proc/stat)"
    )


def print_checks(result: RunResult) -> None:
    print("\nexactly once (SQL after the webhooks, then after the re-send)")
    for what, observed, ok in result.checks:
        print(f"  {what:<38}{observed:>8}  {'ok' if ok else 'UNEXPECTED'}")
    print(f"  exactly once: {'yes' if result.exactly_once else 'no'}")


def print_targets(result: RunResult, concurrency: int) -> None:
    ratio = result.orders_rate / result.inserts_rate
    print("\ntargets (docs/performance.md)")
    rows = (
        ("orders / asyncpg INSERTs per s", f"{ratio:.2f}", f">= {ORDERS_VS_INSERTS:.2f}",
         ratio >= ORDERS_VS_INSERTS),
        ("webhook events/s, exactly once", f"{result.webhooks_rate:,.0f}",
         f">= {WEBHOOKS_PER_S}", result.webhooks_rate >= WEBHOOKS_PER_S and result.exactly_once),
    )  # fmt: skip
    print(
        f"  (orders {result.orders_rate:,.0f}/s, INSERTs {result.inserts_rate:,.0f}/s, "
        f"{concurrency} in flight)"
    )
    for name, value, target, met in rows:
        print(f"  {name:<34}{value:>8}  {target:<10}{verdict(met)}")


def main() -> int:
    args = parse_args()
    print(f"command: {shlex.join([sys.executable, '-m', 'bench.orders', *sys.argv[1:]])}")
    print(f"started: {datetime.now(UTC).isoformat(timespec='seconds')}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before: {load} ({os.cpu_count()} CPUs)\n")

    with demo_database() as database:
        renewed_expiry = seed_orders_data(database, args.orders + args.warmup)
        result, server_log = serve_and_run(args, database, renewed_expiry)

    print()
    print_phases(result.phases)
    print_checks(result)
    print_targets(result, args.concurrency)
    if server_log:
        print(f"\nserver log (tail):\n{server_log[-1500:]}")
    print()
    print_versions(database.server_version)
    print(f"httpx {version('httpx')}, uvloop client loop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
