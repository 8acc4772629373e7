"""`make bench`: every performance target measured side by side in one run; prints only.

uv run python -m bench [--duration 10] [--connections 64] [--quick]

1. Domain: `quote_renewal` calls per second on one core (1 and 10 mailboxes).
2. A throw-away PostgreSQL database (TEST_DATABASE_URL's server), migrated, seeded with
   the demo plus one bench mailbox per order (COPY).
3. A bare FastAPI app (bench/bare_app.py) in its own uvicorn worker, then the product
   (bench/bench_app.py) in another, same flags; wrk at --connections and at 8 on each
   endpoint: steady load for reads and quotes, replay of pre-built requests for orders
   and signed webhooks (bench/order_flow.py), with SQL proof of exactly once.
4. The limiter's cost: server CPU per quote with it off, on (in-process), on (Redis).
5. The raw table, then every target with PASS/FAIL, then the versions. Exit 0 either
   way: benches print, tests assert.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shlex
import shutil
import socket
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from app.auth import issue_dev_token
from app.domain.access import Role
from app.domain.calendar import add_years, italian_date
from app.sandbox.seed import CUSTOMER_ID
from bench.bare_app import TRIVIAL_PATH
from bench.domain import domain_rates
from bench.harness import BARE_APP, BenchDatabase, demo_database, print_versions, serving
from bench.order_data import BENCH_ACCOUNT, EXPIRES_IN_DAYS, seed_bench_mailboxes
from bench.order_flow import OrderFlow, Sizes, run_order_flow
from bench.targets import (
    BARE,
    LIMITER_MEMORY,
    LIMITER_OFF,
    LIMITER_REDIS,
    ONE_QUERY,
    ORDERS,
    PLANS,
    QUOTES,
    TRIVIAL,
    WEBHOOK_EVENTS,
    WEBHOOKS,
    Results,
    print_loads,
    print_targets,
    rows,
)
from bench.wrk import Load, Loader, Request, wrk_version

LOW_CONNECTIONS = 8
QUOTE_BODY = b'{"years": 1, "items": [{"mailbox_id": "mbx-standard"}]}'
RATE_LIMIT_SETTINGS = (
    "RATE_LIMIT_QUOTES",
    "RATE_LIMIT_ORDERS",
    "RATE_LIMIT_SANDBOX",
    "RATE_LIMIT_WEBHOOKS",
    "RATE_LIMIT_FAILED_AUTH",
)
NEVER_REFUSE = "1000000/second"  # the limiter runs, never says no
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
FULL = {"duration": 10, "warmup": 2, "sizes": Sizes(64, WEBHOOK_EVENTS, 500, 200), "repeats": 7}
QUICK = {"duration": 1, "warmup": 1, "sizes": Sizes(16, 120, 24, 12), "repeats": 1}


class Secrets:
    def __init__(self) -> None:
        self.jwt = secrets.token_urlsafe(32)
        self.webhook = "whsec_" + secrets.token_urlsafe(32)  # Standard Webhooks: base64 key

    def auth(self, subject: str) -> dict[str, str]:
        token = issue_dev_token(self.jwt, Role.CUSTOMER, subject)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def server_env(database: BenchDatabase, keys: Secrets, **extra: str) -> dict[str, str]:
    """The product's settings for a bench server: every rate limit far out of reach."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env |= {
        "DATABASE_URL": database.url,
        "AUTH_JWT_SECRET": keys.jwt,
        "GENERIC_WEBHOOK_SECRET": keys.webhook,
        "LOG_LEVEL": "WARNING",
        "SANDBOX": "false",  # no worker loop beside the api
        "RATE_LIMITS_ENABLED": "true",
    }
    env |= dict.fromkeys(RATE_LIMIT_SETTINGS, NEVER_REFUSE)
    return env | extra


def measure_bare(wrk: str, scratch: Path, args: argparse.Namespace) -> dict[int, Load]:
    with serving(dict(os.environ), scratch, BARE_APP, TRIVIAL_PATH) as served:
        loader = Loader(wrk, served.base, served.pgid, scratch, args.duration, args.warmup)
        print(f"  {BARE} ...", flush=True)
        return {c: loader.steady(Request("GET", TRIVIAL_PATH), BARE, c) for c in args.levels}


def measure_product(
    wrk: str,
    scratch: Path,
    args: argparse.Namespace,
    database: BenchDatabase,
    keys: Secrets,
    renewed_expiry: date,
) -> tuple[dict[str, dict[int, Load]], OrderFlow, str]:
    """Every product endpoint at both connection counts: loads by endpoint, the orders'
    and webhooks' flow (with its exactly-once checks) and the server log's tail."""
    quote = Request("POST", "/v1/quotes", QUOTE_BODY, tuple(keys.auth(CUSTOMER_ID).items()))
    steady = {
        TRIVIAL: Request("GET", TRIVIAL_PATH),
        PLANS: Request("GET", "/v1/plans"),
        ONE_QUERY: Request("GET", "/bench/asyncpg"),
        QUOTES: quote,
    }
    loads: dict[str, dict[int, Load]] = {}
    with serving(server_env(database, keys), scratch) as served:
        loader = Loader(wrk, served.base, served.pgid, scratch, args.duration, args.warmup)
        for label, request in steady.items():
            print(f"  {label} ...", flush=True)
            loads[label] = {c: loader.steady(request, label, c) for c in args.levels}
        flow = run_order_flow(
            loader,
            database.url,
            keys.auth(BENCH_ACCOUNT),
            keys.webhook,
            args.sizes,
            args.levels,
            renewed_expiry,
        )
        log = served.log_tail()
    loads[ORDERS] = {args.connections: flow.orders, LOW_CONNECTIONS: flow.orders_low}
    loads[WEBHOOKS] = {args.connections: flow.webhooks, LOW_CONNECTIONS: flow.webhooks_low}
    return loads, flow, log


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def measure_limiter(
    wrk: str, scratch: Path, args: argparse.Namespace, database: BenchDatabase, keys: Secrets
) -> dict[str, Load | None]:
    """Server CPU per quote at --connections, one server per limiter setting."""
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    settings: dict[str, dict[str, str] | None] = {
        LIMITER_OFF: {"RATE_LIMITS_ENABLED": "false"},
        LIMITER_MEMORY: {},
        LIMITER_REDIS: {"REDIS_URL": redis_url} if redis_reachable(redis_url) else None,
    }
    quote = Request("POST", "/v1/quotes", QUOTE_BODY, tuple(keys.auth(CUSTOMER_ID).items()))
    found: dict[str, Load | None] = {}
    for label, extra in settings.items():
        if extra is None:
            print(f"  {label}: no Redis at {redis_url}, skipped", flush=True)
            found[label] = None
            continue
        print(f"  {QUOTES}, {label} ...", flush=True)
        with serving(server_env(database, keys, **extra), scratch) as served:
            loader = Loader(wrk, served.base, served.pgid, scratch, args.duration, args.warmup)
            found[label] = loader.steady(quote, f"quotes, limiter {label.split(', ')[-1]}",
                                         args.connections)  # fmt: skip
    return found


def seed_orders_data(database: BenchDatabase, total: int) -> date:
    """The bench account and its mailboxes: the expiry each will have once renewed."""
    now = datetime.now(UTC)
    today = italian_date(now)
    seconds = asyncio.run(seed_bench_mailboxes(database.url, total, today, now))
    print(f"seeded: account {BENCH_ACCOUNT}, {total:,} mailboxes by COPY ({seconds:.2f} s)")
    return add_years(today + timedelta(days=EXPIRES_IN_DAYS), 1)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, help="seconds per steady wrk run (10)")
    parser.add_argument("--connections", type=int, default=64, help="the high load (64)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    args.duration = args.duration or preset["duration"]
    args.warmup, args.sizes, args.repeats = preset["warmup"], preset["sizes"], preset["repeats"]
    if args.duration < 1 or args.connections <= LOW_CONNECTIONS:
        parser.error(f"--duration must be >= 1 and --connections > {LOW_CONNECTIONS}")
    args.levels = (args.connections, LOW_CONNECTIONS)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed: `make bench` installs it (scripts/ensure_wrk.sh).",
              file=sys.stderr)  # fmt: skip
        return 2
    command = [sys.executable, "-m", "bench", *(sys.argv[1:] if argv is None else argv)]
    print(f"command: {shlex.join(command)}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"started: {datetime.now(UTC).isoformat(timespec='seconds')}, load average {load}")
    print(f"load: {wrk_version(wrk)}, -t2, {args.connections} and {LOW_CONNECTIONS} connections, "
          f"{args.duration} s after {args.warmup} s warm-up; replays: {args.sizes}\n")  # fmt: skip

    print("domain: quote_renewal, demo price list, fixed now ...", flush=True)
    domain = domain_rates(args.repeats)
    keys = Secrets()
    with demo_database() as database, tempfile.TemporaryDirectory(prefix="pec-bench-") as tmp:
        scratch = Path(tmp)
        renewed_expiry = seed_orders_data(database, args.sizes.total)
        loads = {BARE: measure_bare(wrk, scratch, args)}
        product, flow, log = measure_product(wrk, scratch, args, database, keys, renewed_expiry)
        loads |= product
        limiter = measure_limiter(wrk, scratch, args, database, keys)

    print()
    print_loads(loads, [flow.duplicates, *(load for load in limiter.values() if load)])
    print("\nexactly once (SQL after the webhooks, then after delivering some again)")
    for what, observed, ok in flow.checks:
        print(f"  {what:<40}{observed:>14}  {'ok' if ok else 'UNEXPECTED'}")
    if log:
        print(f"\nproduct server log (tail):\n{log}")
    print("\ntargets (docs/benchmarks.md)")
    results = Results(args.connections, LOW_CONNECTIONS, loads, flow, domain, limiter)
    print_targets(rows(results), args.quick)
    print()
    print_versions(database.server_version)
    print(wrk_version(wrk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
