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
import time
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
from app.db.migrate import upgrade_to_head
from app.domain.access import Role
from app.domain.calendar import add_years, italian_date
from app.settings import Settings
from bench.bench_app import asyncpg_dsn
from bench.quote import (
    BenchDatabase,
    create_database,
    drop_database,
    free_port,
    print_versions,
    running_server,
    seed,
    server_command,
    verdict,
    wait_ready,
)
from tests.api.order_helpers import ALL_CONSENTS, PERSON

# httpcore imports `sniffio` on every request to tell asyncio from trio. sniffio isn't
# installed here (anyio 4 no longer needs it), so each of those failed imports searches
# sys.path: ~20% of the client's CPU, taken from the cores the server and PostgreSQL
# need. A None entry in sys.modules fails that import at once (this process only).
if importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

# Targets from docs/performance.md.
ORDERS_VS_INSERTS = 0.25
WEBHOOKS_PER_S = 500

BENCH_ACCOUNT = "acc-bench"
EXPIRES_IN_DAYS = 40  # inside the renewal window, nowhere near the grace period
DUPLICATES = 200
BASELINE_TABLE = "bench_order_baseline"
INSERT_SQL = (
    f"INSERT INTO {BASELINE_TABLE} (id, owner, amount, created_at, document) "
    "VALUES ($1, $2, $3, $4, $5)"
)
T = TypeVar("T")
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


# ---------------------------------------------------------------- setup


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


def generic_webhook_secret() -> str:
    """Standard Webhooks wants `whsec_` + base64 of the key bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# ---------------------------------------------------------------- measuring


def process_cpu_seconds(
    server_pgid: int, database_name: str
) -> tuple[dict[int, float], dict[int, float]]:
    """On-CPU seconds per live process: the server's process group, and the PostgreSQL
    backends serving `database_name` (their title names it). From /proc/<pid>/schedstat,
    in nanoseconds: clock ticks are too coarse for a 0.1 s phase over 40 backends."""
    server: dict[int, float] = {}
    postgres: dict[int, float] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
            fields = stat.rpartition(")")[2].split()  # after "(comm)": state ppid pgrp …
            if int(fields[2]) == server_pgid:
                server[int(proc.name)] = _on_cpu(proc)
            elif stat.partition(" (")[2].startswith("postgres"):
                title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if f" {database_name} " in title:
                    postgres[int(proc.name)] = _on_cpu(proc)
        except (OSError, ValueError, IndexError):
            continue
    return server, postgres


def _on_cpu(proc: Path) -> float:
    return int((proc / "schedstat").read_text().split()[0]) / 1e9


def machine_busy_seconds() -> float:
    """CPU seconds every core spent on anything but idle/iowait since boot (/proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used in between by the processes alive at the end (new ones count from 0)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass(frozen=True)
class CpuUse:
    server: float  # the uvicorn process group
    client: float  # this process: the httpx (or asyncpg) client
    postgres: float  # the backends of the bench database
    machine: float  # every core, anything busy

    @property
    def other(self) -> float:
        """Everything else: other users' processes, PostgreSQL's shared processes, kernel."""
        return max(0.0, self.machine - self.server - self.client - self.postgres)


@dataclass(frozen=True)
class CpuSnapshot:
    server: dict[int, float]
    client: float
    postgres: dict[int, float]
    machine: float

    @classmethod
    def take(cls, server_pgid: int, database_name: str) -> CpuSnapshot:
        server, postgres = process_cpu_seconds(server_pgid, database_name)
        return cls(server, time.process_time(), postgres, machine_busy_seconds())

    def since(self, before: CpuSnapshot) -> CpuUse:
        return CpuUse(
            _used(before.server, self.server),
            self.client - before.client,
            _used(before.postgres, self.postgres),
            self.machine - before.machine,
        )


@dataclass
class Phase:
    label: str
    seconds: float
    latencies: list[float]
    cpu: CpuUse
    answers: Counter[Any] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, int(fraction * len(ordered) + 0.999999) - 1))
        return ordered[index] * 1000

    def per_op_us(self, seconds: float) -> float:
        return seconds / max(self.count, 1) * 1e6


async def run_concurrently(
    count: int, concurrency: int, call: Callable[[int], Awaitable[T]]
) -> tuple[list[T], list[float], float]:
    """`call(i)` for i in range(count), `concurrency` at a time: results, latencies, seconds."""
    results: list[Any] = [None] * count
    latencies = [0.0] * count
    indices = iter(range(count))  # shared: each worker takes the next index

    async def worker() -> None:
        for i in indices:
            started = time.perf_counter()
            results[i] = await call(i)
            latencies[i] = time.perf_counter() - started

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return results, latencies, time.perf_counter() - started


async def timed_phase(
    label: str,
    count: int,
    concurrency: int,
    call: Callable[[int], Awaitable[T]],
    meter: Callable[[], CpuSnapshot],
) -> tuple[list[T], Phase]:
    before = meter()
    results, latencies, seconds = await run_concurrently(count, concurrency, call)
    cpu = meter().since(before)
    return results, Phase(label, seconds, latencies, cpu)


Answer = tuple[int, bytes]  # status code (0: no answer), body


async def post(
    client: httpx.AsyncClient, path: str, content: bytes, headers: dict[str, str]
) -> Answer:
    try:
        response = await client.post(path, content=content, headers=headers)
    except httpx.HTTPError as exc:
        return 0, repr(exc).encode()
    return response.status_code, response.content


def tally(answers: Sequence[Answer], expected: int) -> Counter[Any]:
    """The status codes seen; prints a few unexpected answers."""
    unexpected = [(status, body) for status, body in answers if status != expected]
    for status, body in unexpected[:3]:
        print(f"    unexpected {status}: {body[:300].decode(errors='replace')}")
    return Counter(status for status, _ in answers)


# ---------------------------------------------------------------- the run


@dataclass
class RunResult:
    phases: list[Phase]
    checks: list[tuple[str, str, bool]]  # (what, observed, as expected)
    exactly_once: bool
    inserts_rate: float
    orders_rate: float
    webhooks_rate: float


def order_body(quote_id: str) -> bytes:
    return json.dumps(
        {
            "quote_id": quote_id,
            "holder": PERSON,
            "payment_method": "bank_transfer",
            "consents": ALL_CONSENTS,
        }
    ).encode()


def baseline_document(i: int) -> str:
    """About what an order's `document` holds for one mailbox."""
    return json.dumps(
        {
            "holder": {**PERSON, "country": "IT"},
            "billing": {"e_invoicing": None, "public_administration": None},
            "consents": {**ALL_CONSENTS, "version": "2026-01", "accepted_at": "2026-06-01"},
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


async def run(
    args: argparse.Namespace,
    database: BenchDatabase,
    base: str,
    token: str,
    webhook_secret: str,
    server_pgid: int,
    renewed_expiry: date,
) -> RunResult:
    total = args.orders + args.warmup
    warm, timed = range(args.warmup), range(args.warmup, total)
    concurrency = args.concurrency
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    phases: list[Phase] = []

    def meter() -> CpuSnapshot:
        return CpuSnapshot.take(server_pgid, database.name)

    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client,
        httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as provider,
    ):
        # -- quotes (setup) ---------------------------------------------------------------
        quote_bodies = [
            json.dumps({"years": 1, "items": [{"mailbox_id": mailbox_id(i)}]}).encode()
            for i in range(total)
        ]
        print(f"  POST /v1/quotes x{total} (setup) ...", flush=True)
        answers, phase = await timed_phase(
            "POST /v1/quotes (setup)",
            total,
            concurrency,
            lambda i: post(client, "/v1/quotes", quote_bodies[i], auth),
            meter,
        )
        phase.answers = tally(answers, 201)
        phases.append(phase)
        quote_ids: list[str | None] = []
        for status, body in answers:
            quote = json.loads(body) if status == 201 else {}
            quote_ids.append(quote["id"] if quote.get("status") == "ok" else None)
        if None in quote_ids:
            print(f"    {quote_ids.count(None)} quotes missing or not 'ok': no order for them")

        # -- orders -------------------------------------------------------------------------
        keys = [f"bench-{uuid.uuid4().hex}" for _ in range(total)]
        order_bodies = [order_body(q) if q else b"" for q in quote_ids]

        async def place(i: int) -> Answer:
            if not order_bodies[i]:
                return -1, b"no quote"
            return await post(
                client, "/v1/orders", order_bodies[i], {**auth, "Idempotency-Key": keys[i]}
            )

        order_answers: list[Answer] = []
        if warm:
            print(f"  POST /v1/orders x{len(warm)} (warm-up) ...", flush=True)
            answers, phase = await timed_phase(
                "POST /v1/orders (warm-up)", len(warm), concurrency, place, meter
            )
            phase.answers = tally(answers, 201)
            order_answers += answers
        print(f"  POST /v1/orders x{len(timed)} ...", flush=True)
        answers, orders_phase = await timed_phase(
            "POST /v1/orders",
            len(timed),
            concurrency,
            lambda i: place(args.warmup + i),
            meter,
        )
        orders_phase.answers = tally(answers, 201)
        phases.append(orders_phase)
        order_answers += answers
        orders = [json.loads(body) if status == 201 else None for status, body in order_answers]
        placed = [o for o in orders if o is not None]
        statuses = Counter(o["status"] for o in placed)
        payables = Counter(o["payable"]["amount"] for o in placed)
        print(f"    orders placed: {len(placed)} {dict(statuses)}, payable {dict(payables)}")

        # -- baseline: raw asyncpg INSERTs ----------------------------------------------------
        now = datetime.now(UTC)
        rows = [
            (f"ord_{uuid.uuid4().hex}", BENCH_ACCOUNT, 1208, now, baseline_document(i))
            for i in range(total)
        ]
        pool = await asyncpg.create_pool(
            asyncpg_dsn(database.url), min_size=concurrency, max_size=concurrency
        )
        try:

            async def insert(i: int) -> str:
                return str(await pool.execute(INSERT_SQL, *rows[i]))

            if warm:
                await run_concurrently(len(warm), concurrency, insert)
            print(f"  asyncpg INSERT x{len(timed)} (baseline) ...", flush=True)
            results, inserts_phase = await timed_phase(
                "asyncpg INSERT (baseline)",
                len(timed),
                concurrency,
                lambda i: insert(args.warmup + i),
                meter,
            )
            inserts_phase.answers = Counter(results)
            phases.append(inserts_phase)
        finally:
            await pool.close()

        # -- payment webhooks -------------------------------------------------------------
        # One event per order (its own webhook-id), signed when sent, as a provider does
        # (Standard Webhooks refuses timestamps more than 5 minutes off); a re-send is the
        # same id and body, signed again.
        events = [
            (
                f"msg_bench_{uuid.uuid4().hex}",
                generic_payment(
                    "payment.succeeded",
                    o["number"],
                    o["payable"]["amount"],
                    o["payable"]["currency"],
                ),
            )
            if o is not None
            else None
            for o in orders
        ]
        path = "/v1/webhooks/payments/generic"

        async def deliver(i: int) -> Answer:
            event = events[i]
            if event is None:
                return -1, b"no order"
            event_id, payload = event
            body, headers = generic_signed(payload, webhook_secret, datetime.now(UTC), event_id)
            return await post(provider, path, body, headers)

        def outcomes(answers: Sequence[Answer]) -> Counter[str]:
            seen: Counter[str] = Counter()
            for status, body in answers:
                if status == 200:
                    ack = json.loads(body)
                    seen["duplicate" if ack["duplicate"] else str(ack["outcome"])] += 1
                else:
                    seen[f"HTTP {status}"] += 1
            return seen

        webhook_answers: list[Answer] = []
        if warm:
            print(f"  POST {path} x{len(warm)} (warm-up) ...", flush=True)
            answers, _ = await timed_phase(
                "webhooks (warm-up)", len(warm), concurrency, deliver, meter
            )
            webhook_answers += answers
        print(f"  POST {path} x{len(timed)} ...", flush=True)
        answers, webhooks_phase = await timed_phase(
            "generic payment.succeeded",
            len(timed),
            concurrency,
            lambda i: deliver(args.warmup + i),
            meter,
        )
        tally(answers, 200)
        webhooks_phase.answers = outcomes(answers)
        phases.append(webhooks_phase)
        webhook_answers += answers
        print(f"    answers: {dict(outcomes(webhook_answers))}")

        connection = await asyncpg.connect(asyncpg_dsn(database.url), timeout=5)
        try:
            first = await database_counts(connection, renewed_expiry)
            expected = len(placed)
            checks = [("orders placed (timed + warm-up)", f"{expected}", expected == total)]
            for label, key, want in (
                ("payment_events rows", "events", expected),
                ("  processed, outcome 'fulfil'", "events_fulfil", expected),
                ("  distinct orders they name", "events_orders", expected),
                ("orders FULFILLED", "fulfilled", expected),
                ("mailboxes renewed by 1 year", "renewed", expected),
                ("mail platform messages", "platform_messages", expected),
                ("confirmation emails", "emails", expected),
                ("pending_renewals left", "pending", 0),
            ):
                checks.append((label, f"{first[key]}", first[key] == want))
            exactly_once = all(ok for _, _, ok in checks[1:])

            # -- duplicates: the same signed events again ----------------------------------
            sent = [i for i, event in enumerate(events) if event is not None]
            again = sent[:: max(1, len(sent) // DUPLICATES)][:DUPLICATES]
            print(f"  POST {path} x{len(again)} (duplicates) ...", flush=True)
            answers, duplicates_phase = await timed_phase(
                "duplicates (same events)",
                len(again),
                concurrency,
                lambda i: deliver(again[i]),
                meter,
            )
            duplicates_phase.answers = outcomes(answers)
            phases.append(duplicates_phase)
            second = await database_counts(connection, renewed_expiry)
        finally:
            await connection.close()
        all_duplicates = duplicates_phase.answers == Counter({"duplicate": len(again)})
        unchanged = first == second
        checks += [
            (
                f"re-sent {len(again)}: answered duplicate",
                f"{duplicates_phase.answers.get('duplicate', 0)}",
                all_duplicates,
            ),
            ("  counts unchanged after re-send", "yes" if unchanged else "NO", unchanged),
        ]
        if not unchanged:
            print(f"    before: {first}\n    after:  {second}")
        exactly_once = exactly_once and all_duplicates and unchanged

    return RunResult(
        phases,
        checks,
        exactly_once,
        inserts_phase.rate,
        orders_phase.rate,
        webhooks_phase.rate,
    )


# ---------------------------------------------------------------- report


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="timed orders (and webhooks)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=64, help="untimed orders/webhooks first")
    args = parser.parse_args()
    if args.orders < 1 or args.concurrency < 1 or args.warmup < 0:
        parser.error("--orders and --concurrency must be >= 1, --warmup >= 0")

    print(f"command: {shlex.join([sys.executable, '-m', 'bench.orders', *sys.argv[1:]])}")
    print(f"started: {datetime.now(UTC).isoformat(timespec='seconds')}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before: {load} ({os.cpu_count()} CPUs)\n")

    total = args.orders + args.warmup
    database = asyncio.run(create_database())
    result: RunResult | None = None
    server_log = ""
    try:
        print(f"database: {database.name} (PostgreSQL {database.server_version})", flush=True)
        upgrade_to_head(database.url)
        asyncio.run(seed(database.url))
        now = datetime.now(UTC)
        today = italian_date(now)
        seconds = asyncio.run(seed_bench_mailboxes(database.url, total, today, now))
        renewed_expiry = add_years(today + timedelta(days=EXPIRES_IN_DAYS), 1)
        print(
            f"seeded: demo price list and accounts; account {BENCH_ACCOUNT} with {total} "
            f"STANDARD mailboxes by COPY ({seconds:.2f} s); scratch table {BASELINE_TABLE}"
        )

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
                    run(args, database, base, token, webhook_secret, server.pid, renewed_expiry)
                )
                server_log = log.read_text().strip()
    finally:
        asyncio.run(drop_database(database))
        print(f"\ndatabase {database.name} dropped")

    assert result is not None  # an exception would have left by now
    print()
    print_phases(result.phases)

    print("\nexactly once (SQL after the webhooks, then after the re-send)")
    for what, observed, ok in result.checks:
        print(f"  {what:<38}{observed:>8}  {'ok' if ok else 'UNEXPECTED'}")
    print(f"  exactly once: {'yes' if result.exactly_once else 'no'}")

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
        f"{args.concurrency} in flight)"
    )
    for name, value, target, met in rows:
        print(f"  {name:<34}{value:>8}  {target:<10}{verdict(met)}")
    if server_log:
        print(f"\nserver log (tail):\n{server_log[-1500:]}")

    print()
    print_versions(database.server_version)
    print(f"httpx {version('httpx')}, uvloop client loop")
    return 0


if __name__ == "__main__":
    sys.exit(main())
