"""The servers `make bench` starts and what it measures on each, in rounds: the bare
FastAPI app beside the product app, then the product with each limiter setting."""

from __future__ import annotations

import base64
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from app.auth import issue_dev_token
from app.domain.access import Role
from app.sandbox.seed import CUSTOMER_ID
from app.serving import EVENT_LOOP
from bench.bare_app import TRIVIAL_PATH
from bench.harness import BARE_APP, PRODUCT_APP, BenchDatabase, serving
from bench.order_data import BENCH_ACCOUNT
from bench.order_flow import OrderFlow, OrderReplay, Sizes
from bench.targets import (
    BARE,
    LIMITER_MEMORY,
    LIMITER_OFF,
    LIMITER_REDIS,
    ONE_QUERY,
    ORDERS,
    PAIRED_TRIVIAL,
    PLANS,
    QUOTES,
    TRIVIAL,
    WEBHOOKS,
)
from bench.wrk import Load, Loader, Request, steady_alternated, steady_together

QUOTE_BODY = b'{"years": 1, "items": [{"mailbox_id": "mbx-standard"}]}'
RATE_LIMIT_SETTINGS = (
    "RATE_LIMIT_QUOTES",
    "RATE_LIMIT_ORDERS",
    "RATE_LIMIT_SANDBOX",
    "RATE_LIMIT_WEBHOOKS",
    "RATE_LIMIT_FAILED_AUTH",
)
NEVER_REFUSE = "1000000/second"  # the limiter runs, never says no
LIMITER_POOL_SIZE = "10"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
LIMITER_SETTINGS = {
    LIMITER_OFF: {"RATE_LIMITS_ENABLED": "false"},
    LIMITER_MEMORY: {},
    LIMITER_REDIS: {},  # REDIS_URL added when Redis answers
}


def generic_webhook_secret() -> str:
    """Standard Webhooks wants `whsec_` + standard base64 of the key bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Plan:
    """How much to run: rounds, wrk seconds per steady run (and its warm-up), connection
    counts, replay sizes (per round), and which limiter settings get a server of their
    own (the others reuse the product server's quotes)."""

    rounds: int
    seconds: int
    warmup: int
    high: int
    low: int
    sizes: Sizes
    limiter_servers: tuple[str, ...]
    # The stall detector (p99/p50 at the high load) needs longer runs than the rounds':
    # every wrk run starts with a transient worth a few hundred slow requests, which put
    # the bare app itself at p99/p50 11-18 in 2 s runs and at 1.4 in a 10 s one (and the
    # product's trivial endpoint at 11-13 in 5 s runs, 2.2 in 10 s ones). And one run per
    # endpoint is at the mercy of one hiccup of the host (/v1/plans: 1.95 in one 10 s run,
    # 5.77 in the next), so each endpoint gets three, taking the median.
    stall_seconds: int = 10
    stall_runs: int = 3
    # The limiter's cost is small (~5% of a quote measured alone: bench.rate_limit_cost)
    # beside the rounds' spread (a setting's quote CPU moved 430-577 µs over 5 rounds): a
    # median of 5 ratios put it at 1.18 in one run and 1.03 over 8 rounds in the next. Over
    # 9 rounds, four runs in a row read the in-process store at 1.09, 1.01, 1.06 and 1.11,
    # the same setting's quote moving 312-544 µs within a minute: 15 rounds since.
    limiter_rounds: int = 15
    # Seconds each of the bare app and the trivial endpoint get per round at the high load,
    # in turns of one (bench/wrk.py: steady_alternated): the trivial-vs-bare target's rounds.
    turns: int = 4

    @property
    def levels(self) -> tuple[int, int]:
        return self.high, self.low


@dataclass
class Bench:
    """One run: wrk, its scratch directory, the database, and the servers' secrets."""

    wrk: str
    scratch: Path
    database: BenchDatabase
    plan: Plan
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    webhook_secret: str = field(default_factory=lambda: generic_webhook_secret())

    def auth(self, subject: str) -> dict[str, str]:
        token = issue_dev_token(self.jwt_secret, Role.CUSTOMER, subject)
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def server_env(self, **extra: str) -> dict[str, str]:
        """The product's settings for a bench server: every rate limit out of reach."""
        env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
        env |= {
            "DATABASE_URL": self.database.url,
            "AUTH_JWT_SECRET": self.jwt_secret,
            "GENERIC_WEBHOOK_SECRET": self.webhook_secret,
            "LOG_LEVEL": "WARNING",
            "SANDBOX": "false",  # no worker loop beside the api
            "RATE_LIMITS_ENABLED": "true",
        }
        return env | dict.fromkeys(RATE_LIMIT_SETTINGS, NEVER_REFUSE) | extra

    @contextmanager
    def loader(
        self,
        env: dict[str, str],
        factory: str = PRODUCT_APP,
        ready: str = "/readyz",
        loop: str = EVENT_LOOP,
    ) -> Iterator[tuple[Loader, Path]]:
        """A server running `factory`, and wrk aimed at it (with the server's log)."""
        with serving(env, self.scratch, factory, ready, loop) as served:
            plan = self.plan
            scratch = self.scratch / served.log.stem  # servers side by side: a folder each
            yield Loader(self.wrk, served.base, served.pgid, scratch, plan.seconds,
                         plan.warmup), served.log  # fmt: skip

    def quote(self) -> Request:
        return Request("POST", "/v1/quotes", QUOTE_BODY, tuple(self.auth(CUSTOMER_ID).items()))


Rounds = dict[int, list[Load]]  # each round's load, by connection count


def _round_line(label: str, loads: dict[int, Load]) -> str:
    """Each load's req/s, server CPU, p99 and the host's steal meanwhile (with how many
    times the run was taken again for it, where it was)."""
    figures = "  ".join(
        f"@{c} {load.rps:>7,.0f}/s {load.server_cpu_us:>6,.0f} µs p99 {load.p99_ms:>7.1f} ms"
        f" st{load.steal:>4.0%}{'' if not load.retakes else f' ({load.retakes} retaken)'}"
        for c, load in loads.items()
    )
    return f"    {label:<28}{figures}"


def measure_pair(bench: Bench, number: int) -> tuple[Load, Load]:
    """The trivial-vs-bare target's round: a bare app and a product server started for this
    round alone, loaded at the high count in turns of a second (`steady_alternated`; the
    side that starts changes each round), then stopped. Trivial's load, then the bare app's.

    Two processes of the same code differ by up to ±8% in req/s for their whole life
    (docs/benchmarks.md, "Our layers counted without HTTP"): one pair for the whole run
    drew one pairing, and the row read 0.77-0.97 from run to run while our stack costs 3%
    more instructions than FastAPI's floor. A pair per round makes the rounds' median a
    median of pairings."""
    plan = bench.plan
    request = Request("GET", TRIVIAL_PATH)
    with ExitStack() as servers:
        bare, _ = servers.enter_context(bench.loader(dict(os.environ), BARE_APP, TRIVIAL_PATH))
        # Beside the product server's pools, within PostgreSQL's 100 connections.
        env = bench.server_env(DATABASE_POOL_SIZE=LIMITER_POOL_SIZE)
        product, _ = servers.enter_context(bench.loader(env))
        pair = [(bare, request, BARE), (product, request, PAIRED_TRIVIAL)]
        loads = steady_alternated(pair if number % 2 else pair[::-1], plan.high, plan.turns)
    by_label = {load.label: load for load in loads}
    return by_label[PAIRED_TRIVIAL], by_label[BARE]


def measure_endpoints(
    bench: Bench, renewed_expiry: date
) -> tuple[dict[str, Rounds], dict[str, list[Load]], OrderFlow, str]:
    """Every endpoint at both connection counts, round after round. Each round first
    compares a fresh pair, the bare app and the product's trivial endpoint (`measure_pair`),
    then loads trivial, plans, the one-query floor and quotes on the product server for a
    few seconds each, and places and pays its share of orders there. Loads by endpoint (the
    pair's at the high count only); a few longer runs per steady endpoint at the high load,
    for its p99/p50 (the stall detector); the orders' flow (with its exactly-once checks);
    the product's log tail."""
    plan = bench.plan
    with ExitStack() as servers:
        product, log = servers.enter_context(bench.loader(bench.server_env()))
        steady = {
            TRIVIAL: (product, Request("GET", TRIVIAL_PATH)),
            PLANS: (product, Request("GET", "/v1/plans")),
            ONE_QUERY: (product, Request("GET", "/bench/asyncpg")),
            QUOTES: (product, bench.quote()),
        }
        account = bench.auth(BENCH_ACCOUNT)
        flow = OrderReplay(product, bench.database.url, account, bench.webhook_secret,
                           plan.sizes, plan.levels, renewed_expiry)  # fmt: skip
        flow.warm_up(plan.rounds)
        loads: dict[str, Rounds] = {label: {plan.high: []} for label in (PAIRED_TRIVIAL, BARE)}
        loads |= {label: {c: [] for c in plan.levels} for label in steady}
        for number in range(1, plan.rounds + 1):
            print(f"  round {number} of {plan.rounds} ...", flush=True)
            for load in measure_pair(bench, number):
                loads[load.label][plan.high].append(load)
                print(_round_line(load.label, {plan.high: load}), flush=True)
            for label, (loader, request) in steady.items():
                found = {c: loader.steady(request, label, c) for c in plan.levels}
                for c, load in found.items():
                    loads[label][c].append(load)
                print(_round_line(label, found), flush=True)
            flow.round()
            for label, replayed in ((ORDERS, flow.orders), (WEBHOOKS, flow.webhooks)):
                print(_round_line(label, {c: replayed[c][-1] for c in plan.levels}), flush=True)
        # The duplicates first: they are webhooks signed in the rounds, and past the
        # signature's tolerance (5 minutes) they would be refused as replays (400).
        finished = flow.finish()
        stalls: dict[str, list[Load]] = {label: [] for label in steady}
        for _ in range(plan.stall_runs):
            for label, (loader, request) in steady.items():
                stall = loader.steady(request, label, plan.high, plan.stall_seconds)
                stalls[label].append(stall)
                print(_round_line(f"{label}, {plan.stall_seconds} s", {plan.high: stall}))
        tail = log.read_text(errors="replace").strip()[-1500:]
    loads |= {ORDERS: finished.orders, WEBHOOKS: finished.webhooks}
    return loads, stalls, finished, tail


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def measure_limiter(bench: Bench, product_quotes: list[Load]) -> dict[str, list[Load] | None]:
    """Server CPU per quote at the high connection count with each limiter setting, in
    the plan's rounds.

    The settings' servers run side by side and are loaded at the same time, each by its
    own wrk, so each round's ratio compares the same seconds of the host: loaded in turn,
    seconds apart, a setting's CPU per quote moved ±30% from one round to the next (the
    eighteenth sitting's, docs/benchmarks.md). A setting without a server of its own in
    the plan reuses the product server's quote rounds (in-process; paired by round number,
    minutes apart) or is not measured."""
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    found: dict[str, list[Load] | None] = {
        label: product_quotes if label == LIMITER_MEMORY else None for label in LIMITER_SETTINGS
    }
    envs: dict[str, dict[str, str]] = {}
    for label, extra in LIMITER_SETTINGS.items():
        if label not in bench.plan.limiter_servers:
            continue
        if label == LIMITER_REDIS:
            if not redis_reachable(redis_url):
                print(f"  {label}: no Redis at {redis_url} (BENCH_REDIS_URL), skipped")
                continue
            extra = {"REDIS_URL": redis_url}
        # Side by side, each server's two pools (SQLAlchemy's and /bench/asyncpg's) must
        # fit PostgreSQL's default 100 connections together: 20 + 20 each would not.
        envs[label] = bench.server_env(DATABASE_POOL_SIZE=LIMITER_POOL_SIZE, **extra)
    if not envs:
        return found
    rounds = bench.plan.limiter_rounds
    print(f"  {QUOTES}, limiter settings side by side, {rounds} rounds at once ...", flush=True)
    with ExitStack() as servers:
        loaders = {
            label: servers.enter_context(bench.loader(env))[0] for label, env in envs.items()
        }
        runs: dict[str, list[Load]] = {label: [] for label in loaders}
        for number in range(1, rounds + 1):
            aimed = [
                (loader, bench.quote(), f"quotes, {label}") for label, loader in loaders.items()
            ]
            loads = steady_together(aimed, bench.plan.high)
            by_label = dict(zip(loaders, loads, strict=True))
            for label, load in by_label.items():
                runs[label].append(load)
            figures = "  ".join(
                f"{label} {load.server_cpu_us:>6,.0f}" for label, load in by_label.items()
            )
            print(f"    round {number:>2}  µs/quote: {figures}  st{loads[0].steal:>4.0%}")
    found.update(runs)
    return found
