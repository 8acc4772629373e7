"""`make bench`: every performance target measured side by side in one run; prints only.

uv run python -m bench [--rounds 5] [--duration 2] [--connections 64] [--quick | --smoke]

1. Domain: `quote_renewal` calls per second on one core (1 and 10 mailboxes).
2. A throw-away PostgreSQL database (TEST_DATABASE_URL's server), migrated, seeded with
   the demo plus one bench mailbox per order (COPY).
3. The product (bench/bench_app.py) in its own uvicorn worker; then rounds, each first
   comparing a fresh pair (a bare FastAPI app, bench/bare_app.py, and a second product
   server, started for the round, same flags) in turns, then loading every product
   endpoint in turn with wrk at --connections and at 8 for a few seconds: steady load
   for reads and quotes, replay of pre-built requests for orders and signed webhooks
   (bench/order_flow.py), with SQL proof of exactly once at the end.
4. The limiter's cost: server CPU per quote with it off, on (in-process), on (Redis),
   in rounds too.
5. The raw table, then every target with PASS/FAIL, then the versions. Each figure is
   the median of its rounds; each ratio the median of the ratios taken within a round,
   with their spread. Exit 0 either way: benches print, tests assert.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from app.domain.calendar import add_years, italian_date
from bench.domain import domain_rates
from bench.harness import BenchDatabase, demo_database, print_versions
from bench.order_data import BENCH_ACCOUNT, EXPIRES_IN_DAYS, seed_bench_mailboxes
from bench.order_flow import GROUPED_WRITES, WRITE_GROUPS, Sizes
from bench.phases import Bench, Plan, measure_endpoints, measure_limiter
from bench.targets import (
    LIMITER_MEMORY,
    LIMITER_OFF,
    LIMITER_REDIS,
    QUOTES,
    WEBHOOK_EVENTS,
    Results,
    print_loads,
    print_targets,
    rows,
)
from bench.wrk import installed_wrk, wrk_version

LOW_CONNECTIONS = 8
# Orders (and webhooks) per round at the low load: enough that a round's p99 is a p99
# (its 4th slowest), not its slowest request or two, as with 100; the floor's p99 beside
# it comes from thousands of requests.
LOW_SHARE = 400
FULL_ROUNDS = 5
# Rounds, steady seconds per round and their warm-up, replay sizes per round (the timed
# webhooks of all rounds make the target's 5,000 events), the limiter settings that get a
# server of their own (quick and smoke reuse the product server's quotes for in-process),
# domain repeats.
PRESETS = {
    "full": (FULL_ROUNDS, 2, 1, Sizes(500, -(-WEBHOOK_EVENTS // FULL_ROUNDS), LOW_SHARE, 200), (LIMITER_OFF, LIMITER_MEMORY, LIMITER_REDIS), 7),  # noqa: E501
    "quick": (3, 1, 1, Sizes(100, 100, 20, 30), (LIMITER_OFF, LIMITER_REDIS), 2),
    "smoke": (2, 1, 0, Sizes(2, 4, 2, 2), (LIMITER_OFF,), 1),
}  # fmt: skip
# Seconds and runs per endpoint of the p99/p50 runs (the stall detector).
STALL_RUNS = {"full": (10, 3), "quick": (10, 1), "smoke": (1, 1)}
# Rounds of the limiter settings' servers (bench/phases.py: Plan.limiter_rounds).
LIMITER_ROUNDS = {"full": 15, "quick": 3, "smoke": 2}
# Turns of a second each for the bare app and the trivial endpoint per round (Plan.turns).
TURNS = {"full": 4, "quick": 2, "smoke": 1}


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Plan, int]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, help="rounds over every endpoint (5)")
    parser.add_argument("--duration", type=int, help="seconds per steady wrk run (2)")
    parser.add_argument("--connections", type=int, default=64, help="the high load (64)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a short run, small replays")
    size.add_argument("--smoke", action="store_true", help="the test suite's: seconds")
    args = parser.parse_args(argv)
    args.preset = "smoke" if args.smoke else "quick" if args.quick else "full"
    rounds, seconds, warmup, sizes, servers, repeats = PRESETS[args.preset]
    rounds, seconds = args.rounds or rounds, args.duration or seconds
    if rounds < 1 or seconds < 1 or args.connections <= LOW_CONNECTIONS:
        parser.error(f"--rounds and --duration must be >= 1, --connections > {LOW_CONNECTIONS}")
    stall_seconds, stall_runs = STALL_RUNS[args.preset]
    plan = Plan(
        rounds, seconds, warmup, args.connections, LOW_CONNECTIONS, sizes, servers,
        stall_seconds, stall_runs, LIMITER_ROUNDS[args.preset], TURNS[args.preset],
    )  # fmt: skip
    return args, plan, repeats


def seed_orders_data(database: BenchDatabase, total: int) -> date:
    """The bench account and its mailboxes: the expiry each will have once renewed."""
    now = datetime.now(UTC)
    today = italian_date(now)
    seconds = asyncio.run(seed_bench_mailboxes(database.url, total, today, now))
    print(f"seeded: account {BENCH_ACCOUNT}, {total:,} mailboxes by COPY ({seconds:.2f} s)")
    return add_years(today + timedelta(days=EXPIRES_IN_DAYS), 1)


def main(argv: Sequence[str] | None = None) -> int:
    args, plan, repeats = parse_args(argv)
    wrk = installed_wrk()
    started = time.monotonic()
    command = [sys.executable, "-m", "bench", *(sys.argv[1:] if argv is None else argv)]
    print(f"command: {shlex.join(command)}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"started: {datetime.now(UTC).isoformat(timespec='seconds')}, load average {load}")
    print(f"load: wrk -t2, {plan.high} and {plan.low} connections, {plan.rounds} rounds; steady "
          f"runs {plan.seconds} s after {plan.warmup} s warm-up; a fresh bare app and product "
          f"server per round, their trivial endpoints at {plan.high} in turns of 1 s, "
          f"{plan.turns} each (p99/p50: "
          f"{plan.stall_runs} runs of {plan.stall_seconds} s each at {plan.high}); "
          f"replays {plan.sizes}, the "
          f"timed and low shares per round\n", flush=True)  # fmt: skip

    print("domain: quote_renewal, demo price list, fixed now ...", flush=True)
    domain = domain_rates(repeats)
    with demo_database() as database, tempfile.TemporaryDirectory(prefix="pec-bench-") as tmp:
        bench = Bench(wrk, Path(tmp), database, plan)
        renewed_expiry = seed_orders_data(
            database, plan.sizes.total(plan.rounds, (plan.high, plan.low))
        )
        loads, stalls, flow, log = measure_endpoints(bench, renewed_expiry)
        limiter = measure_limiter(bench, loads[QUOTES][plan.high])

    print()
    own_servers = [
        loads for label, loads in limiter.items() if loads and label in plan.limiter_servers
    ]
    print_loads(loads, [[flow.duplicates], *own_servers])
    print("\nexactly once (SQL after the webhooks, then after delivering some again)")
    for what, observed, ok in flow.checks:
        print(f"  {what:<40}{observed:>14}  {'ok' if ok else 'UNEXPECTED'}")
    counted = flow.counted
    print(
        f"orders from the api's memory of their quote (app/db/order_memory.py): "
        f"{counted.get('written', 0):,.0f} written in one statement, "
        f"{counted.get('read_again', 0):,.0f} read again"
    )
    print(
        f"payments from the api's memory of their order (app/db/placed_order_memory.py): "
        f"{counted.get('payments_written', 0):,.0f} written in one statement, "
        f"{counted.get('payments_read_again', 0):,.0f} read again"
    )
    groups, grouped = counted.get(WRITE_GROUPS, 0), counted.get(GROUPED_WRITES, 0)
    print(
        f"writes of the product server sent by its group commit (app/db/group_commit.py): "
        f"{grouped:,.0f} in {groups:,.0f} groups ({grouped / max(groups, 1):.1f} per group)"
    )
    if log:
        print(f"\nproduct server log (tail):\n{log}")
    print(f"\ntargets (docs/benchmarks.md), {args.preset} run")
    results = Results(plan.high, plan.low, loads, flow, domain, limiter, stalls)
    print_targets(rows(results), args.preset)
    print()
    print_versions(database.server_version)
    print(f"{wrk_version(wrk)}; {time.monotonic() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
