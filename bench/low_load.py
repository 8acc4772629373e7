"""Orders and payment webhooks at the low load (8 connections), each round beside the
one-query floor: their p99 against the floor's, the target they come closest to
(docs/benchmarks.md).

    uv run python -m bench.low_load [--share 400] [--rounds 3] [--connections 8] [--env K=V ...]
        [--loop asyncio|uvloop|module:factory] [--timeline]

`make bench`'s shares at 8 connections (400 orders a round), alone: each round loads
the floor for a few seconds, then places a share of orders (each quoted just before, as
a frontend does) and pays each by a signed webhook, all by wrk replays against one
product server. `--env` passes settings to that server (DATABASE_GROUP_COMMIT=false,
ORDER_QUOTE_MEMORY=0…) to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

import httpx

from app.serving import EVENT_LOOP
from bench.__main__ import seed_orders_data
from bench.harness import PRODUCT_APP, demo_database
from bench.order_data import BENCH_ACCOUNT
from bench.order_flow import OrderReplay, Sizes, server_counters
from bench.phases import Bench, Plan
from bench.targets import ONE_QUERY
from bench.timeline_app import TIMELINE_PATH, share_summary
from bench.wrk import Load, Request, installed_wrk

FLOOR, ORDERS, WEBHOOKS = ONE_QUERY, "POST /v1/orders", "payment webhook"
TIMELINE_APP = "bench.timeline_app:create_timeline_app"
PATHS = {ORDERS: "/v1/orders", WEBHOOKS: "/v1/webhooks/payments/generic"}
WARM_UP = 300
MEMORY_COUNTERS = ("written", "read_again", "payments_written", "payments_read_again")


def _line(label: str, load: Load, floor: Load) -> str:
    answers = " ".join(f"{status}×{count}" for status, count in sorted(load.statuses.items()))
    return (
        f"  {label:<20}{load.rps:>7,.0f}/s  server {load.server_cpu_us:>6,.0f} µs  "
        f"db {load.database_cpu_us:>6,.0f} µs  "
        f"p50 {load.p50_ms:6.2f}  p99 {load.p99_ms:6.2f} ms  p99 vs floor "
        f"{load.p99_ms / floor.p99_ms:5.2f}  steal {load.steal:3.0%}"
        f"{f' ({load.retakes} retaken)' if load.retakes else ''}  {answers}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--share", type=int, default=400, help="orders per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=2, help="seconds of the floor's run")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    parser.add_argument("--loop", default=EVENT_LOOP, help="uvicorn's --loop, to compare")
    parser.add_argument("--timeline", action="store_true", help="what the server saw, too")
    args = parser.parse_args()
    wrk = installed_wrk()
    extra = dict(item.split("=", 1) for item in args.env)
    sizes = Sizes(warmup=WARM_UP, timed=args.share, low=0, duplicates=0)
    levels = (args.connections, args.connections)
    plan = Plan(args.rounds, args.duration, 1, args.connections, args.connections, sizes, ())
    ratios: dict[str, list[float]] = {ORDERS: [], WEBHOOKS: []}
    with demo_database() as database, tempfile.TemporaryDirectory(prefix="pec-low-") as tmp:
        bench = Bench(wrk, Path(tmp), database, plan)
        renewed = seed_orders_data(database, sizes.total(args.rounds, levels))
        factory = TIMELINE_APP if args.timeline else PRODUCT_APP
        with bench.loader(bench.server_env(**extra), factory, loop=args.loop) as (product, _log):
            flow = OrderReplay(product, database.url, bench.auth(BENCH_ACCOUNT),
                               bench.webhook_secret, sizes, levels, renewed)  # fmt: skip
            flow.warm_up(args.rounds)
            for number in range(1, args.rounds + 1):
                if args.timeline:  # what came before this round is not its shares'
                    httpx.get(product.base + TIMELINE_PATH, timeout=30)
                floor = product.steady(Request("GET", "/bench/asyncpg"), FLOOR, args.connections)
                orders = flow.place(args.share, args.connections)
                webhooks = flow.pay(args.connections)
                print(f"round {number}, {args.connections} connections", flush=True)
                for label, load in ((FLOOR, floor), (ORDERS, orders), (WEBHOOKS, webhooks)):
                    print(_line(label, load, floor), flush=True)
                if args.timeline:
                    seen = httpx.get(product.base + TIMELINE_PATH, timeout=30).json()
                    for label, path in PATHS.items():
                        summary = share_summary(seen["requests"], seen["collections"], path)
                        print(f"    {label:<18}{summary}", flush=True)
                ratios[ORDERS].append(orders.p99_ms / floor.p99_ms)
                ratios[WEBHOOKS].append(webhooks.p99_ms / floor.p99_ms)
            counted = asyncio.run(server_counters(product.base))
    print(
        "\nfrom the api's memory: orders {:,.0f} written, {:,.0f} read again; payments {:,.0f} "
        "written, {:,.0f} read again".format(*(counted.get(key, 0) for key in MEMORY_COUNTERS))
    )
    print("\nmedian p99 vs the floor's, over the rounds (target <= 3.00)")
    for label, found in ratios.items():
        print(f"  {label:<20}{statistics.median(found):5.2f}  ({min(found):.2f}–{max(found):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
