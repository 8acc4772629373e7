"""The targets of the performance spec (docs/benchmarks.md), each beside what one run
measured: the final table of `make bench`. Every figure is the median of its rounds;
every ratio the median of ratios taken within a round, with their spread (min-max)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.harness import verdict
from bench.order_flow import OrderFlow
from bench.rounds import (
    Figure,
    Ratio,
    database_cpu_us,
    errors,
    median,
    own_ratio,
    p50_ms,
    p99_ms,
    paired_ratio,
    rps,
    server_cpu_us,
    statuses,
    steal,
    tail_ratio,
)
from bench.wrk import Load

TRIVIAL = "GET /bench/trivial"
PLANS = "GET /v1/plans"
ONE_QUERY = "GET /bench/asyncpg"
QUOTES = "POST /v1/quotes"
ORDERS = "POST /v1/orders"
WEBHOOKS = "payment webhook"
BARE = "bare FastAPI /bench/trivial"
# The product's trivial endpoint in the trivial-vs-bare pair: a server of its own per round.
PAIRED_TRIVIAL = "GET /bench/trivial, paired"

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
    """One run's measurements: each round's load, by endpoint and connection count."""

    high: int
    low: int
    loads: dict[str, dict[int, list[Load]]]  # the pair (BARE, PAIRED_TRIVIAL), the product's
    flow: OrderFlow
    domain: tuple[float, float]  # quotes/s, 1 and 10 mailboxes
    limiter: dict[str, list[Load] | None] = field(default_factory=dict)  # None: not measured
    stalls: dict[str, list[Load]] = field(default_factory=dict)  # longer runs, high load

    def at(self, label: str, connections: int) -> list[Load]:
        return self.loads[label][connections]


@dataclass(frozen=True)
class Row:
    measure: str
    target: str
    measured: str
    met: bool


def _ratio_row(
    measure: str, target: float, ratio: Ratio, at_most: bool, unit: str = "", digits: int = 0
) -> Row:
    """`5.23 (1,514 / 290 µs; 4.90–5.60)`: the median ratio, the median of each side,
    the spread of the rounds' ratios."""
    sign = "<=" if at_most else ">="
    met = ratio.value <= target if at_most else ratio.value >= target
    sides = f"{ratio.numerator:,.{digits}f} / {ratio.denominator:,.{digits}f}{unit}"
    return Row(measure, f"{sign} {target:.2f}", f"{ratio.value:.2f} ({sides}{ratio.spread})", met)


def rows(results: Results) -> list[Row]:
    """Every target, in the spec's order."""
    high, low = results.high, results.low
    trivial, one_query = results.at(TRIVIAL, high), results.at(ONE_QUERY, high)
    table = [trivial_vs_bare_row(results.loads, high)]
    for label in results.loads:
        if label in (BARE, PAIRED_TRIVIAL):  # turns of a second: their tails in the raw table
            continue
        # The steady endpoints' longer runs; the replays (orders, webhooks) keep their
        # rounds (their runs have no start-up transient of their own to hide).
        tail = own_ratio(results.stalls.get(label) or results.at(label, high), p99_ms, p50_ms)
        table.append(
            _ratio_row(f"p99/p50 @{high} {label}", TAIL_RATIO, tail, True, " ms", digits=1)
        )
    table.append(
        _ratio_row(
            "plans vs trivial, req/s",
            PLANS_VS_TRIVIAL,
            paired_ratio(results.at(PLANS, high), trivial, rps),
            at_most=False,
        )
    )
    for label, limit in CPU_VS_ONE_QUERY.items():
        cpu = paired_ratio(results.at(label, high), one_query, server_cpu_us)
        table.append(_ratio_row(f"server CPU {label} vs asyncpg", limit, cpu, True, " µs"))
    table.append(webhook_rate_row(results.at(WEBHOOKS, high), results.flow.exactly_once))
    one_query_low = results.at(ONE_QUERY, low)
    for label in (TRIVIAL, PLANS, QUOTES, ORDERS, WEBHOOKS):
        loads = results.at(label, low)
        measure = f"p99 @{low} {label} vs asyncpg"
        if not all(load.requests for load in loads):
            table.append(Row(measure, "<= 3.00", "nothing answered", False))
            continue
        ratio = paired_ratio(loads, one_query_low, p99_ms)
        table.append(_ratio_row(measure, LOW_P99_VS_ONE_QUERY, ratio, True, " ms", digits=1))
    one, ten = results.domain
    for measure, rate, floor in (
        ("domain quotes/s, 1 mailbox", one, DOMAIN_ONE_PER_S),
        ("domain quotes/s, 10 mailboxes", ten, DOMAIN_TEN_PER_S),
    ):
        table.append(Row(measure, f">= {floor:,}", f"{rate:,.0f}", rate >= floor))
    table += limiter_rows(results.limiter)
    return table


def trivial_vs_bare_row(loads: dict[str, dict[int, list[Load]]], high: int) -> Row:
    """req/s of the product's trivial endpoint over the bare app's, each round on a pair of
    servers of its own (bench/phases.py: measure_pair): the median of the pairings."""
    ratio = paired_ratio(loads[PAIRED_TRIVIAL][high], loads[BARE][high], rps)
    return _ratio_row("trivial vs bare FastAPI, req/s", TRIVIAL_VS_BARE, ratio, at_most=False)


def webhook_rate_row(webhooks: list[Load], exactly_once: bool) -> Row:
    """Webhooks per second: the median round, its spread, and how many in all."""
    rates = [load.rps for load in webhooks]
    sent = sum(load.requests for load in webhooks)
    rate = median(webhooks, rps)
    spread = f" ({min(rates):,.0f}–{max(rates):,.0f})" if len(rates) > 1 else ""
    return Row(
        f"webhooks/s, {WEBHOOK_EVENTS:,} events, exactly once",
        f">= {WEBHOOKS_PER_S} /s",
        f"{rate:,.0f} /s{spread} over {sent:,} in {len(rates)} rounds, exactly once: "
        f"{'yes' if exactly_once else 'NO'}",
        rate >= WEBHOOKS_PER_S and exactly_once and sent >= WEBHOOK_EVENTS,
    )


def limiter_rows(limiter: dict[str, list[Load] | None]) -> list[Row]:
    """Server CPU per quote with the limiter on (each store) vs off, round by round."""
    off = limiter.get(LIMITER_OFF)
    found: list[Row] = []
    for label in (LIMITER_MEMORY, LIMITER_REDIS):
        loads = limiter.get(label)
        measure = f"server CPU per quote, {label} vs off"
        if off is None or loads is None:
            found.append(Row(measure, f"<= {LIMITER_CPU:.2f}", "not measured", False))
            continue
        ratio = paired_ratio(loads, off, server_cpu_us)
        if errors(loads) or errors(off):  # CPU per failed answer compares nothing
            detail = f"{ratio.numerator:,.0f} / {ratio.denominator:,.0f} µs"
            found.append(Row(measure, f"<= {LIMITER_CPU:.2f}", f"errors: {detail}", False))
            continue
        found.append(_ratio_row(measure, LIMITER_CPU, ratio, True, " µs"))
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


def _figure(loads: list[Load], figure: Figure) -> float:
    return median(loads, figure) if loads else 0.0


def print_loads(loads: dict[str, dict[int, list[Load]]], extra: list[list[Load]]) -> None:
    """The raw per-endpoint table: each figure the median of the rounds, requests their
    sum, server CPU's spread beside its median, PostgreSQL's CPU per request, then the
    host's steal (its median share of the machine's CPU) and the runs taken again for it."""
    print(
        f"{'endpoint':<30}{'conns':>6}{'rounds':>7}{'requests':>10}{'req/s':>9}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'p99/p50':>8}{'srv µs/req':>11}{'min–max':>14}{'db µs/req':>10}"
        f"{'steal':>7}{'retaken':>8}  answers"
    )
    every = [series for by_conns in loads.values() for series in by_conns.values()] + extra
    for series in every:
        first = series[0]
        answers = ", ".join(f"{code}×{n}" for code, n in sorted(statuses(series).items()))
        if wrk_errors := errors(series):
            answers = f"{answers}; {wrk_errors}" if answers else wrk_errors
        cpu = [load.server_cpu_us for load in series]
        print(
            f"{first.label:<30}{first.connections:>6}{len(series):>7}"
            f"{sum(load.requests for load in series):>10,}{_figure(series, rps):>9,.0f}"
            f"{_figure(series, p50_ms):>9.2f}{_figure(series, p99_ms):>9.2f}"
            f"{_figure(series, tail_ratio):>8.1f}{_figure(series, server_cpu_us):>11,.0f}"
            f"{f'{min(cpu):,.0f}–{max(cpu):,.0f}':>14}"
            f"{_figure(series, database_cpu_us):>10,.0f}{_figure(series, steal):>7.0%}"
            f"{sum(load.retakes for load in series):>8}  {answers or '-'}"
        )
