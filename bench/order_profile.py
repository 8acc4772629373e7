"""One order's cost, in-process: CPU µs and round trips per POST /v1/orders.

uv run python -m bench.order_profile [--orders 300] [--quotes] [--webhooks]
    [--profile F.prof [--profile-of quote|requote|order|webhook]] [--instructions] [--limiter]

The app runs in this process (the ASGI app called directly, no HTTP server), on a
throw-away database seeded like the bench's orders; orders are placed one at a time, so
the figures are this process's CPU time (steady on a busy machine, unlike wall time),
the CPU time PostgreSQL's processes spent meanwhile (from /proc: on loopback only, and
anything else using the server counts too), and the statements each order sent: those
through SQLAlchemy (counted by its cursor events) and those in plain asyncpg (counted by
asyncpg's query loggers, which also see BEGIN and COMMIT). `--quotes` measures the same
way the quotes made for the orders (POST /v1/quotes, one mailbox each), then the same
mailboxes quoted again (as `make bench` sends them: priced from the mailboxes the
process remembers). `--webhooks` then pays each order with a signed payment webhook and
measures those too. `--profile` writes a cProfile of the timed quotes, orders or
webhooks (`--profile-of`; by default the webhooks with `--webhooks`, else the orders).
Last, the floors in the same process: GET /bench/asyncpg (one raw query) and GET
/bench/trivial (no I/O), with each measured path's CPU over the one query's.

`--instructions` runs the same under valgrind's callgrind and also prints the instructions
each request took: a count that a busy host can't move (CPU time on a shared machine moved
3x between runs of the same code), to compare two versions of the code by. It is ~30x
slower: use --orders 100 or so. `--limiter` measures all of it with the rate limits on
(this process's counters, limits that never refuse): its difference is the limiter's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import event

from app.auth import issue_dev_token
from app.domain.access import Role
from app.domain.calendar import italian_date
from app.settings import Settings
from bench.bare_app import TRIVIAL_PATH
from bench.bench_app import asyncpg_dsn, create_bench_app
from bench.harness import demo_database, on_api_loop, postgres_cpu_seconds
from bench.order_data import (
    BENCH_ACCOUNT,
    analyze_as_autovacuum,
    awaiting_payment,
    mailbox_id,
    order_body,
    seed_bench_mailboxes,
)
from bench.order_flow import WEBHOOK_PATH, webhook_requests
from bench.phases import NEVER_REFUSE, RATE_LIMIT_SETTINGS, generic_webhook_secret
from bench.wrk import Request


class RoundTrips:
    """Statements sent to PostgreSQL, by their first words."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.counting = False

    def sent(self, sql: str) -> None:
        if self.counting:
            # Of the first words only: splitting a whole one-write statement cost more
            # instructions than some of the code measured.
            self.statements[" ".join(sql[:200].split()[:4])[:60]] += 1

    def on_asyncpg(self, record: Any) -> None:
        self.sent(record.query)

    def on_sqlalchemy(self, *args: Any) -> None:
        self.sent(args[2])  # (conn, cursor, statement, parameters, context, executemany)


async def call(
    app: Any, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    """One request straight through the ASGI app."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    async with app.router.lifespan_context(app):
        yield


@dataclass(frozen=True)
class Run:
    """What to measure: how many of each (after a warm-up), and what to profile."""

    orders: int
    warmup: int
    quotes: bool
    webhooks: bool
    profile: str | None  # a cProfile file
    profile_of: str  # "quote", "order" or "webhook"
    limiter: bool = False  # the rate limits on, in-process, never refusing


Step = Callable[[], Awaitable[None]]
QUOTE_ID = re.compile(rb'"(quo_[0-9a-f]{32})"')
UNDER_CALLGRIND = "ORDER_PROFILE_UNDER_CALLGRIND"
BATCH = 25  # requests per batch, for the quietest batch's figure
FLOORS = ("/bench/asyncpg", TRIVIAL_PATH)  # the one-query floor first: the ratios' divisor


async def measure(url: str, run: Run) -> None:
    orders, warmup = run.orders, run.warmup
    webhook_secret = generic_webhook_secret()
    os.environ.update(
        DATABASE_URL=url,
        AUTH_JWT_SECRET=secrets.token_urlsafe(32),
        GENERIC_WEBHOOK_SECRET=webhook_secret,
        SANDBOX="false",
        # The business path only, unless the limiter's own cost is asked for (it runs but
        # never refuses, as in make bench's limiter rows).
        RATE_LIMITS_ENABLED="true" if run.limiter else "false",
        **dict.fromkeys(RATE_LIMIT_SETTINGS, NEVER_REFUSE),
    )
    settings = Settings()
    app = create_bench_app()
    token = issue_dev_token(settings.auth_jwt_secret, Role.CUSTOMER, BENCH_ACCOUNT)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    trips = RoundTrips()
    engine = app.state.container.engine
    event.listen(engine.sync_engine, "before_cursor_execute", trips.on_sqlalchemy)

    @event.listens_for(engine.sync_engine, "connect")
    def _log_asyncpg(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(trips.on_asyncpg)

    async def timed(label: str, steps: list[Step]) -> float:
        """Run the warm-up steps, then the rest timed: the CPU seconds they took."""
        profile = run.profile if run.profile_of == label else None
        for step in steps[:warmup]:
            await step()
        # The warm-up's rows in the statistics, as autovacuum would (bench/order_data.py).
        await analyze_as_autovacuum(url)
        profiler = cProfile.Profile(time.process_time) if profile else None
        trips.statements.clear()
        trips.counting = True
        started_database = postgres_cpu_seconds()  # before the count starts: a /proc walk
        started_instructions = instructions()
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        # Per batch too: a busy neighbour only ever adds CPU, so the quietest batch is
        # the steadiest figure on a shared host (the mean is the honest one).
        batches: list[float] = []
        batch_started = started_cpu
        for done, step in enumerate(steps[warmup:], start=1):
            await step()
            if done % BATCH == 0:
                now = time.process_time()
                batches.append(now - batch_started)
                batch_started = now
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started_wall
        spent_instructions = since(started_instructions)
        spent_database = postgres_cpu_seconds() - started_database
        trips.counting = False
        if profiler and profile:
            profiler.dump_stats(profile)
        quietest = f"; quietest {BATCH}: {min(batches) / BATCH * 1e6:,.0f} µs" if batches else ""
        print(
            f"CPU per {label}: {cpu / orders * 1e6:,.0f} µs"
            f" (wall {wall / orders * 1e6:,.0f} µs{quietest})"
        )
        if spent_instructions is not None:
            print(f"instructions per {label}: {spent_instructions / orders:,.0f}")
        print(f"PostgreSQL CPU per {label}: {spent_database / orders * 1e6:,.0f} µs")
        print(f"round trips per {label}: {sum(trips.statements.values()) / orders:.1f}")
        for sql, n in trips.statements.most_common():
            print(f"  {n / orders:5.1f}  {sql}")
        return cpu

    async with running(app):
        total = orders + warmup
        quote_ids: list[str] = []

        def quote(i: int, ids: list[str]) -> Step:
            async def step() -> None:
                body = json.dumps({"years": 1, "items": [{"mailbox_id": mailbox_id(i)}]})
                status, answer = await call(app, "POST", "/v1/quotes", body.encode(), headers)
                assert status == 201, answer
                # The id found, not the whole answer parsed: json.loads of a quote cost
                # ~8% of the instructions counted for the quote itself.
                found = QUOTE_ID.search(answer)
                assert found is not None, answer
                ids.append(found.group(1).decode())

            return step

        def place(i: int) -> Step:
            async def step() -> None:
                keyed = {**headers, "idempotency-key": f"prof-{uuid.uuid4().hex}"}
                body = order_body(quote_ids[i])
                status, answer = await call(app, "POST", "/v1/orders", body, keyed)
                assert status == 201, answer

            return step

        def pay(request: Request) -> Step:
            async def step() -> None:
                status, answer = await call(
                    app, "POST", WEBHOOK_PATH, request.body, dict(request.headers)
                )
                assert status == 200, answer

            return step

        cpu: dict[str, float] = {}
        quoting = [quote(i, quote_ids) for i in range(total)]
        if run.quotes:
            print(f"quotes: {orders} timed after {warmup} warm-up, one at a time, in-process")
            cpu["quote"] = await timed("quote", quoting)
            # The same mailboxes quoted again: priced from what the process remembers of
            # them, one statement each (app/db/mailbox_memory.py); what `make bench` sends.
            print(f"requotes: the same {orders} mailboxes quoted again")
            cpu["requote"] = await timed("requote", [quote(i, []) for i in range(total)])
        else:
            for step in quoting:
                await step()
        print(f"orders: {orders} timed after {warmup} warm-up, one at a time, in-process")
        cpu["order"] = await timed("order", [place(i) for i in range(total)])
        if run.webhooks:
            connection = await asyncpg.connect(asyncpg_dsn(url), timeout=5)
            try:
                unpaid = await awaiting_payment(connection)
            finally:
                await connection.close()
            requests = webhook_requests(unpaid, webhook_secret, datetime.now(UTC))
            cpu["webhook"] = await timed("webhook", [pay(r) for r in requests])
        # The floors in the same process and minute.
        floors = {path: await floor_cpu(app, path, headers, orders, warmup) for path in FLOORS}
    for path, (spent, counted) in floors.items():
        print(f"CPU per GET {path}: {spent / orders * 1e6:,.0f} µs")
        if counted is not None:
            print(f"instructions per GET {path}: {counted / orders:,.0f}")
    one_query = floors[FLOORS[0]][0]
    for label, spent in cpu.items():
        print(f"{label}: {spent / one_query:.1f}x the one query")


async def floor_cpu(
    app: Any, path: str, headers: dict[str, str], count: int, warmup: int
) -> tuple[float, int | None]:
    """CPU seconds (and instructions, under callgrind) of `count` GETs of `path`, after
    `warmup` of them."""
    for _ in range(warmup):
        await call(app, "GET", path, b"", headers)
    started_database = postgres_cpu_seconds()
    started_instructions = instructions()
    started = time.process_time()
    for _ in range(count):
        status, answer = await call(app, "GET", path, b"", headers)
        assert status == 200, answer
    spent = time.process_time() - started
    counted = since(started_instructions)
    database = postgres_cpu_seconds() - started_database
    print(f"PostgreSQL CPU per GET {path}: {database / count * 1e6:,.0f} µs")
    return spent, counted


def instructions() -> int | None:
    """The instructions this process has run so far, under callgrind (else None)."""
    if not os.environ.get(UNDER_CALLGRIND):
        return None
    shown = subprocess.run(
        ["callgrind_control", "-e", "Ir", str(os.getpid())],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return sum(int(n.replace(",", "")) for n in re.findall(r"Th \d+\s+([\d,]+)", shown))


def since(started: int | None) -> int | None:
    now = instructions()
    return None if started is None or now is None else now - started


def under_callgrind() -> None:
    """This command again, under callgrind (its counts, not its output file, are wanted)."""
    os.environ[UNDER_CALLGRIND] = "1"
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "-q"]
    argv = [a for a in sys.argv[1:] if a != "--instructions"]
    os.execvp("valgrind", [*command, sys.executable, "-m", "bench.order_profile", *argv])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    # Hundreds, as `make bench` warms up: the statistics taken after 30 payments made the
    # planner read the whole payments table in every timed webhook (docs/benchmarks.md).
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--profile", default=None, help="write a cProfile (see --profile-of)")
    parser.add_argument(
        "--profile-of",
        choices=("quote", "requote", "order", "webhook"),
        help="what --profile profiles (the webhooks with --webhooks, else the orders)",
    )
    parser.add_argument("--quotes", action="store_true", help="measure the quotes made first")
    parser.add_argument(
        "--webhooks", action="store_true", help="then pay each order by a signed webhook"
    )
    parser.add_argument(
        "--limiter",
        action="store_true",
        help="with the rate limits on (in-process, never refusing)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count each request's instructions too (under valgrind: ~30x slower)",
    )
    args = parser.parse_args()
    if args.instructions:
        under_callgrind()
    profile_of = args.profile_of or ("webhook" if args.webhooks else "order")
    if (profile_of in ("quote", "requote") and not args.quotes) or (
        profile_of == "webhook" and not args.webhooks
    ):
        needs = "webhooks" if profile_of == "webhook" else "quotes"
        parser.error(f"--profile-of {profile_of} needs --{needs}")
    run = Run(
        args.orders, args.warmup, args.quotes, args.webhooks, args.profile, profile_of, args.limiter
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with demo_database() as database:
        now = datetime.now(UTC)
        total = args.orders + args.warmup
        asyncio.run(seed_bench_mailboxes(database.url, total, italian_date(now), now))
        on_api_loop(measure(database.url, run))


if __name__ == "__main__":
    main()
