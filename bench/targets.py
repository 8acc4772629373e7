"""The targets of the performance spec (docs/benchmarks.md), each beside what one run
measured: the final table of `make bench`."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.harness import verdict
from bench.order_flow import OrderFlow
from bench.wrk import Load

TRIVIAL = "GET /bench/trivial"
PLANS = "GET /v1/plans"
ONE_QUERY = "GET /bench/asyncpg"
QUOTES = "POST /v1/quotes"
ORDERS = "POST /v1/orders"
WEBHOOKS = "payment webhook"
BARE = "bare FastAPI /bench/trivial"

TRIVIAL_VS_BARE = 0.80
TAIL_RATIO = 4.0
PLANS_VS_TRIVIAL = 0.80
CPU_VS_ONE_QUERY = {QUOTES: 2.0, ORDERS: 4.0, WEBHOOKS: 4.0}
WEBHOOK_EVENTS = 5_000
WEBHOOKS_PER_S = 500
LOW_P99_VS_ONE_QUERY = 3.0
DOMAIN_ONE_PER_S = 50_000
DOMAIN_TEN_PER_S = 8_000
LIMITER_CPU = 1.10

LIMITER_OFF = "limiter off"  # RATE_LIMITS_ENABLED=false
LIMITER_MEMORY = "limiter in-process"  # RATE_LIMITS_ENABLED=true, no REDIS_URL
LIMITER_REDIS = "limiter Redis"  # RATE_LIMITS_ENABLED=true, REDIS_URL


@dataclass
class Results:
    """One run's measurements: loads by endpoint and connection count."""

    high: int
    low: int
    loads: dict[str, dict[int, Load]]  # BARE and the product's endpoints
    flow: OrderFlow
    domain: tuple[float, float]  # quotes/s, 1 and 10 mailboxes
    limiter: dict[str, Load | None] = field(default_factory=dict)  # None: not measured

    def at(self, label: str, connections: int) -> Load:
        return self.loads[label][connections]


@dataclass(frozen=True)
class Row:
    measure: str
    target: str
    measured: str
    met: bool


def _ratio_row(measure: str, target: float, value: float, detail: str, at_most: bool) -> Row:
    sign = "<=" if at_most else ">="
    met = value <= target if at_most else value >= target
    return Row(measure, f"{sign} {target:.2f}", f"{value:.2f} ({detail})", met)


def rows(results: Results) -> list[Row]:
    """Every target, in the spec's order."""
    high, low = results.high, results.low
    bare, trivial = results.at(BARE, high), results.at(TRIVIAL, high)
    plans, one_query = results.at(PLANS, high), results.at(ONE_QUERY, high)
    table = [
        _ratio_row(
            "trivial vs bare FastAPI, req/s",
            TRIVIAL_VS_BARE,
            trivial.rps / bare.rps,
            f"{trivial.rps:,.0f} / {bare.rps:,.0f}",
            at_most=False,
        )
    ]
    for label in results.loads:
        if label == BARE:  # not ours: its own tail shows in the raw table
            continue
        load = results.at(label, high)
        detail = f"{load.p99_ms:.1f} / {load.p50_ms:.1f} ms"
        table.append(
            _ratio_row(f"p99/p50 @{high} {label}", TAIL_RATIO, load.tail_ratio, detail, True)
        )
    table.append(
        _ratio_row(
            "plans vs trivial, req/s",
            PLANS_VS_TRIVIAL,
            plans.rps / trivial.rps,
            f"{plans.rps:,.0f} / {trivial.rps:,.0f}",
            at_most=False,
        )
    )
    for label, limit in CPU_VS_ONE_QUERY.items():
        load = results.at(label, high)
        detail = f"{load.server_cpu_us:,.0f} / {one_query.server_cpu_us:,.0f} µs"
        ratio = load.server_cpu_us / one_query.server_cpu_us
        table.append(_ratio_row(f"server CPU {label} vs asyncpg", limit, ratio, detail, True))
    webhooks = results.flow.webhooks
    once = results.flow.exactly_once
    table.append(
        Row(
            f"webhooks/s, {WEBHOOK_EVENTS:,} events, exactly once",
            f">= {WEBHOOKS_PER_S} /s",
            f"{webhooks.rps:,.0f} /s over {webhooks.requests:,}, exactly once: "
            f"{'yes' if once else 'NO'}",
            webhooks.rps >= WEBHOOKS_PER_S and once and webhooks.requests >= WEBHOOK_EVENTS,
        )
    )
    one_query_low = results.at(ONE_QUERY, low)
    for label in (TRIVIAL, PLANS, QUOTES, ORDERS, WEBHOOKS):
        load = results.at(label, low)
        if not load.requests:
            table.append(
                Row(f"p99 @{low} {label} vs asyncpg", "<= 3.00", "nothing answered", False)
            )
            continue
        detail = f"{load.p99_ms:.1f} / {one_query_low.p99_ms:.1f} ms"
        ratio = load.p99_ms / one_query_low.p99_ms
        table.append(
            _ratio_row(f"p99 @{low} {label} vs asyncpg", LOW_P99_VS_ONE_QUERY, ratio, detail, True)
        )
    one, ten = results.domain
    for measure, rate, floor in (
        ("domain quotes/s, 1 mailbox", one, DOMAIN_ONE_PER_S),
        ("domain quotes/s, 10 mailboxes", ten, DOMAIN_TEN_PER_S),
    ):
        table.append(Row(measure, f">= {floor:,}", f"{rate:,.0f}", rate >= floor))
    table += limiter_rows(results.limiter)
    return table


def limiter_rows(limiter: dict[str, Load | None]) -> list[Row]:
    """Server CPU per quote with the limiter on (each store) vs off."""
    off = limiter.get(LIMITER_OFF)
    found: list[Row] = []
    for label in (LIMITER_MEMORY, LIMITER_REDIS):
        load = limiter.get(label)
        measure = f"server CPU per quote, {label} vs off"
        if off is None or load is None:
            found.append(Row(measure, f"<= {LIMITER_CPU:.2f}", "not measured", False))
            continue
        detail = f"{load.server_cpu_us:,.0f} / {off.server_cpu_us:,.0f} µs"
        if load.errors or off.errors:  # CPU per failed answer compares nothing
            found.append(Row(measure, f"<= {LIMITER_CPU:.2f}", f"errors: {detail}", False))
            continue
        ratio = load.server_cpu_us / off.server_cpu_us
        found.append(_ratio_row(measure, LIMITER_CPU, ratio, detail, True))
    return found


def print_targets(table: list[Row], preset: str) -> None:
    width = max(len(row.measure) for row in table)
    value_width = max(len(row.measured) for row in table)
    print(f"{'measure':<{width}}  {'target':<10}  {'measured':<{value_width}}  verdict")
    print(f"{'-' * width}  {'-' * 10}  {'-' * value_width}  -------")
    for row in table:
        mark = verdict(row.met)
        print(f"{row.measure:<{width}}  {row.target:<10}  {row.measured:<{value_width}}  {mark}")
    failed = sum(not row.met for row in table)
    print(f"\n{len(table) - failed} PASS, {failed} FAIL", end="")
    print("" if preset == "full" else f" (--{preset}: short runs, small replays: indicative only)")


def print_loads(loads: dict[str, dict[int, Load]], extra: list[Load]) -> None:
    """The raw per-endpoint table."""
    print(
        f"{'endpoint':<30}{'conns':>6}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'p99/p50':>8}{'srv µs/req':>11}  answers"
    )
    every = [load for by_conns in loads.values() for load in by_conns.values()] + extra
    for load in every:
        answers = ", ".join(f"{code}×{n}" for code, n in sorted(load.statuses.items()))
        if load.errors:
            answers = f"{answers}; {load.errors}" if answers else load.errors
        print(
            f"{load.label:<30}{load.connections:>6}{load.requests:>10,}{load.rps:>9,.0f}"
            f"{load.p50_ms:>9.2f}{load.p99_ms:>9.2f}{load.tail_ratio:>8.1f}"
            f"{load.server_cpu_us:>11,.0f}  {answers or '-'}"
        )
