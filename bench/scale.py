"""Two api processes and two workers on one PostgreSQL database: does everything happen
exactly once? `make scale` runs it; tests/integration/test_scale_out.py runs it small.

uv run python -m bench.scale [--orders 2000] [--concurrency 32] [--twice-every 10]

1. A throw-away database (TEST_DATABASE_URL's server), migrated, seeded with the demo
   (price list) and one bench mailbox per order (bench/order_data.py, COPY).
2. A loopback mail platform (HTTP) and SMTP server (aiosmtpd) that count what they
   receive, by dedupe key (bench/loopback_peers.py).
3. Two `uvicorn app.main:create_app --factory` processes and two `python -m app.worker`,
   on that database, pointed at the receivers (bench/scale_cluster.py).
4. A quote per mailbox (1, 2 or 3 years), then an order on the OTHER api process, then
   a signed generic payment webhook each, alternating between the processes,
   `--concurrency` in flight; every `--twice-every`-th event is also sent at the same
   moment to the other process (bench/scale_traffic.py).
5. Wait (bounded) until the workers have delivered the outbox, then check in SQL and at
   the receivers (bench/scale_checks.py): each event applied once, each mailbox renewed
   by exactly the years paid, each outbox message delivered once, no 5xx, no deadlock.

Exit status 0 when every check holds, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from app.auth import issue_dev_token
from app.domain.access import Role
from app.domain.calendar import italian_date
from bench.bench_app import asyncpg_dsn
from bench.harness import BenchDatabase, demo_database
from bench.loopback_peers import Inbox, MailPlatform, serving, smtp_serving
from bench.order_data import BENCH_ACCOUNT, EXPIRES_IN_DAYS, seed_bench_mailboxes
from bench.order_flow import server_counters
from bench.phases import generic_webhook_secret
from bench.scale_checks import (
    Check,
    Deliveries,
    check,
    connected,
    database_facts,
    deadlocks,
    delivery_checks,
    event_checks,
    outbox_pending,
    traffic_checks,
    wait_until_drained,
)
from bench.scale_cluster import Cluster, ClusterConfig, running_cluster
from bench.scale_traffic import (
    Acks,
    Timing,
    Traffic,
    make_quotes,
    pay,
    payment_events,
    place_orders,
    used_since,
)

Say = Callable[[str], None]


@dataclass(frozen=True)
class ScaleOptions:
    orders: int = 2000
    concurrency: int = 32
    twice_every: int = 10  # every n-th event delivered twice (0: none)
    drain_timeout: float = 600.0  # seconds for the workers to empty the outbox
    api_pool_size: int = 16
    worker_pool_size: int = 2


@dataclass
class ScaleReport:
    checks: list[Check] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    deliveries: list[Deliveries] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    log_tails: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0
    server_version: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass(frozen=True)
class Receivers:
    inbox: Inbox
    platform: MailPlatform


@dataclass(frozen=True)
class Sent:
    placed: int
    acks: list[Acks]
    statuses: Counter[int]


def run_scale(options: ScaleOptions, say: Say = print) -> ScaleReport:
    """The whole run, on a database of its own that is dropped afterwards."""
    report = ScaleReport()
    started = time.perf_counter()
    with demo_database() as database:
        report.server_version = database.server_version
        now = datetime.now(UTC)
        today = italian_date(now)
        seconds = asyncio.run(seed_bench_mailboxes(database.url, options.orders, today, now))
        say(f"seeded {options.orders} bench mailboxes by COPY in {seconds:.2f} s")
        original_expiry = today + timedelta(days=EXPIRES_IN_DAYS)
        with (
            smtp_serving() as smtp,
            serving(MailPlatform()) as platform,
            tempfile.TemporaryDirectory(prefix="pec-scale-") as logs,
        ):
            config = ClusterConfig(
                database_url=database.url,
                jwt_secret=secrets.token_urlsafe(32),
                generic_webhook_secret=generic_webhook_secret(),
                smtp_port=smtp.port,
                mail_platform_url=platform.url,
                logs=Path(logs),
                api_pool_size=options.api_pool_size,
                worker_pool_size=options.worker_pool_size,
            )
            receivers = Receivers(smtp.inbox, platform)
            run = _with_cluster(options, config, database, original_expiry, receivers, report, say)
            asyncio.run(run)
    report.wall_seconds = time.perf_counter() - started
    return report


async def _with_cluster(
    options: ScaleOptions,
    config: ClusterConfig,
    database: BenchDatabase,
    original_expiry: date,
    receivers: Receivers,
    report: ScaleReport,
    say: Say,
) -> None:
    dsn = asyncpg_dsn(database.url)
    async with connected(dsn) as connection:
        deadlocks_before = await deadlocks(connection, database.name)
    say(f"starting {config.apis} api processes and {config.workers} workers ...")
    with running_cluster(config, dict(os.environ)) as cluster:
        sent = await _send(options, config, cluster, database.name, report, say)
        await _say_memory(cluster, say)
        say(f"waiting for the outbox to drain (at most {options.drain_timeout:.0f} s) ...")
        before = cluster.cpu_seconds(database.name)
        async with connected(dsn) as connection:
            undelivered = (await outbox_pending(connection))[0]
            drained = await wait_until_drained(connection, options.drain_timeout, say)
        drain_cpu = used_since(before, cluster.cpu_seconds(database.name))
        exited = cluster.exited()
    # The processes are stopped: their statistics are flushed, their logs complete.
    await asyncio.sleep(0.5)
    async with connected(dsn) as connection:
        deadlocks_after = await deadlocks(connection, database.name)
        facts = await database_facts(connection)
    findings = cluster.log_findings()
    report.log_tails = cluster.log_tails()
    if drained is not None:
        label = "outbox left after the last webhook, drained"
        report.timings.append(Timing(label, undelivered, drained, drain_cpu))
    report.checks += traffic_checks(options.orders, sent.placed, sent.acks, sent.statuses)
    report.checks += event_checks(facts, sent.acks, original_expiry, options.orders)
    delivered, report.deliveries = delivery_checks(
        facts, receivers.inbox, receivers.platform, sent.placed
    )
    report.checks += [
        check(
            f"outbox drained within {options.drain_timeout:.0f} s",
            "yes" if drained is not None else "NO",
            "yes",
        ),
        *delivered,
        check("deadlocks (pg_stat_database)", deadlocks_after - deadlocks_before, 0),
        check("'deadlock' in the processes' logs", findings["deadlock"], 0),
        check("tracebacks in the processes' logs", findings["traceback"], 0),
        check("processes that stopped before the end", ", ".join(exited) or "none", "none"),
    ]


async def _send(
    options: ScaleOptions,
    config: ClusterConfig,
    cluster: Cluster,
    database: str,
    report: ScaleReport,
    say: Say,
) -> Sent:
    """Quotes, orders, then webhooks, over every api process."""
    token = issue_dev_token(config.jwt_secret, Role.CUSTOMER, BENCH_ACCOUNT)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=options.concurrency)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base, limits=limits, timeout=60)
            )
            for base in cluster.bases
        ]
        traffic = Traffic(
            clients,
            auth,
            config.generic_webhook_secret,
            options.concurrency,
            lambda: cluster.cpu_seconds(database),
        )
        say(f"POST /v1/quotes x{options.orders} over {len(clients)} api processes ...")
        quote_ids = await make_quotes(traffic, options.orders)
        _said(traffic, say)
        say(f"POST /v1/orders x{options.orders}, each on another process than its quote ...")
        orders = await place_orders(traffic, quote_ids)
        _said(traffic, say)
        events = payment_events(orders)
        twice = (
            f", every {options.twice_every}th also to another process"
            if options.twice_every
            else ""
        )
        say(f"signed payment webhooks x{len(events)}{twice} ...")
        acks = await pay(traffic, events, options.twice_every)
        _said(traffic, say)
    report.timings += traffic.timings
    report.unexpected = traffic.unexpected
    return Sent(len(events), acks, traffic.statuses)


async def _say_memory(cluster: Cluster, say: Say) -> None:
    """What the api processes' memories saved (app/db/process_memory.py): a payment
    reaching the process that placed its order is written without a read."""
    counted = [await server_counters(base) for base in cluster.bases]
    written = sum(c.get("payments_written", 0) for c in counted)
    again = sum(c.get("payments_read_again", 0) for c in counted)
    say(f"  payments from the api's memory of their order: {written:,.0f} written, "
        f"{again:,.0f} read again (the rest were read for)")  # fmt: skip


def _said(traffic: Traffic, say: Say) -> None:
    last = traffic.timings[-1]
    say(f"  {last.count} in {last.seconds:.2f} s: {last.rate:,.0f}/s")


# ---------------------------------------------------------------- report and command


def print_report(report: ScaleReport, say: Say = print) -> None:
    say(f"\n{'timing':<46}{'count':>6}{'seconds':>8}{'per s':>7}  CPU µs per op: api workers pg")
    for t in report.timings:
        cpu = "".join(f"{_us(t.cpu_per_op_us(kind)):>8}" for kind in ("api", "workers", "postgres"))
        say(f"{t.label:<46}{t.count:>6}{t.seconds:>8.2f}{t.rate:>7,.0f}  {cpu}")
    say(f"{'whole run (database created to dropped)':<46}{'':>6}{report.wall_seconds:>8.2f}")
    say("(CPU: on-CPU time of the two api processes, the two workers and the database's")
    say(" backends during the phase, divided by its count: steadier than the rates on a")
    say(" shared machine)")
    say(f"\n{'outbox, by dedupe key':<16}{'queued':>8}{'missing':>9}{'twice':>7}{'retried':>9}")
    for d in report.deliveries:
        say(f"{d.kind:<16}{d.queued:>8}{d.missing:>9}{d.twice:>7}{d.retried:>9}")
    say("(retried: received again after an attempt the outbox recorded as failed or lost:")
    say(" at-least-once with a dedupe key, allowed; twice: a copy with no such attempt)")
    say(f"\n{'check':<56}{'observed':>12}{'expected':>10}  verdict")
    for c in report.checks:
        say(f"{c.what:<56}{c.observed:>12}{c.expected:>10}  {'ok' if c.ok else 'FAILED'}")
    for line in report.unexpected:
        say(f"  unexpected answer: {line}")
    if not report.ok:
        for name, tail in report.log_tails.items():
            say(f"\n{name} (tail):\n{tail}")
    say(f"\nscale: {'PASSED' if report.ok else 'FAILED'}")


def _us(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def parse_args(argv: list[str]) -> ScaleOptions:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders (and mailboxes)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument(
        "--twice-every", type=int, default=10, help="every n-th event sent twice (0: none)"
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=600.0, help="seconds to empty the outbox"
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.concurrency < 1 or args.twice_every < 0:
        parser.error("--orders and --concurrency must be >= 1, --twice-every >= 0")
    return ScaleOptions(
        orders=args.orders,
        concurrency=args.concurrency,
        twice_every=args.twice_every,
        drain_timeout=args.drain_timeout,
        api_pool_size=max(4, args.concurrency // 2),
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    print(f"command: {shlex.join([sys.executable, '-m', 'bench.scale', *sys.argv[1:]])}")
    print(f"started: {datetime.now(UTC).isoformat(timespec='seconds')}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average before: {load} ({os.cpu_count()} CPUs)\n", flush=True)
    report = run_scale(options, lambda line: print(line, flush=True))
    print_report(report)
    print(f"PostgreSQL {report.server_version}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
