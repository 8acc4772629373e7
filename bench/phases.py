"""The servers `make bench` starts, one after the other, and what it measures on each:
the bare FastAPI app, the product app, then the product with each limiter setting."""

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
from bench.bare_app import TRIVIAL_PATH
from bench.harness import BARE_APP, PRODUCT_APP, BenchDatabase, serving
from bench.order_data import BENCH_ACCOUNT
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
    WEBHOOKS,
)
from bench.wrk import Load, Loader, Request

QUOTE_BODY = b'{"years": 1, "items": [{"mailbox_id": "mbx-standard"}]}'
RATE_LIMIT_SETTINGS = (
    "RATE_LIMIT_QUOTES",
    "RATE_LIMIT_ORDERS",
    "RATE_LIMIT_SANDBOX",
    "RATE_LIMIT_WEBHOOKS",
    "RATE_LIMIT_FAILED_AUTH",
)
NEVER_REFUSE = "1000000/second"  # the limiter runs, never says no
LIMITER_ROUNDS = 3  # the limiter's settings, loaded in turn: each keeps its median round
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
    """How much to run: wrk seconds, connection counts, replay sizes, and which limiter
    settings get a server of their own (the others reuse the product server's quotes)."""

    seconds: int
    warmup: int
    high: int
    low: int
    sizes: Sizes
    limiter_servers: tuple[str, ...]

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
        self, env: dict[str, str], factory: str = PRODUCT_APP, ready: str = "/readyz"
    ) -> Iterator[tuple[Loader, Path]]:
        """A server running `factory`, and wrk aimed at it (with the server's log)."""
        with serving(env, self.scratch, factory, ready) as served:
            plan = self.plan
            yield Loader(self.wrk, served.base, served.pgid, self.scratch, plan.seconds,
                         plan.warmup), served.log  # fmt: skip

    def quote(self) -> Request:
        return Request("POST", "/v1/quotes", QUOTE_BODY, tuple(self.auth(CUSTOMER_ID).items()))

    def each_level(self, loader: Loader, request: Request, label: str) -> dict[int, Load]:
        print(f"  {label} ...", flush=True)
        return {c: loader.steady(request, label, c) for c in self.plan.levels}


def measure_bare(bench: Bench) -> dict[int, Load]:
    """The bare FastAPI app's one route, in its own process."""
    with bench.loader(dict(os.environ), BARE_APP, TRIVIAL_PATH) as (loader, _):
        return bench.each_level(loader, Request("GET", TRIVIAL_PATH), BARE)


def measure_product(
    bench: Bench, renewed_expiry: date
) -> tuple[dict[str, dict[int, Load]], OrderFlow, str]:
    """Every product endpoint at both connection counts: loads by endpoint, the orders'
    and webhooks' flow (with its exactly-once checks) and the server log's tail."""
    steady = {
        TRIVIAL: Request("GET", TRIVIAL_PATH),
        PLANS: Request("GET", "/v1/plans"),
        ONE_QUERY: Request("GET", "/bench/asyncpg"),
        QUOTES: bench.quote(),
    }
    with bench.loader(bench.server_env()) as (loader, log):
        loads = {
            label: bench.each_level(loader, request, label) for label, request in steady.items()
        }
        flow = run_order_flow(
            loader,
            bench.database.url,
            bench.auth(BENCH_ACCOUNT),
            bench.webhook_secret,
            bench.plan.sizes,
            bench.plan.levels,
            renewed_expiry,
        )
        tail = log.read_text(errors="replace").strip()[-1500:]
    loads[ORDERS] = dict(zip(bench.plan.levels, (flow.orders, flow.orders_low), strict=True))
    loads[WEBHOOKS] = dict(zip(bench.plan.levels, (flow.webhooks, flow.webhooks_low), strict=True))
    return loads, flow, tail


def redis_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def measure_limiter(bench: Bench, product_quotes: Load) -> dict[str, Load | None]:
    """Server CPU per quote at the high connection count with each limiter setting.

    The settings' servers run side by side and are loaded in turn, round after round (the
    order rotating), and each setting keeps its median round: on these shared cores one
    server measured alone, minutes after another, differed by 8-17% with the same code.
    A setting without a server of its own in the plan reuses the product server's quotes
    (in-process) or is not measured."""
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    found: dict[str, Load | None] = {
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
    rounds = LIMITER_ROUNDS if len(envs) > 1 else 1
    print(f"  {QUOTES}, limiter settings side by side, {rounds} rounds in turn ...", flush=True)
    with ExitStack() as servers:
        loaders = {
            label: servers.enter_context(bench.loader(env))[0] for label, env in envs.items()
        }
        runs: dict[str, list[Load]] = {label: [] for label in loaders}
        order = list(loaders)
        for number in range(rounds):
            shift = number % len(order)
            for label in order[shift:] + order[:shift]:
                load = loaders[label].steady(bench.quote(), f"quotes, {label}", bench.plan.high)
                runs[label].append(load)
                print(f"    round {number + 1} {label:<20}{load.server_cpu_us:>8,.0f} µs/quote")
    for label, loads in runs.items():
        found[label] = sorted(loads, key=lambda load: load.server_cpu_us)[len(loads) // 2]
    return found
