"""What the rate limiter costs a quote: api server CPU per POST /v1/quotes with the limits
off, on with this process's counters, and on with Redis's (issue 10: at most +10%).

    sh scripts/uv.sh run python -m bench.rate_limit_cost [--rounds 3] [--duration 5]

One throw-away database seeded with the demo; three uvicorn servers (one per setting)
of `bench.bench_app`, each one worker in its own process group, with limits that run but
never refuse ("1000000/second"). In each round the three are loaded at the same time,
each by its own wrk, so whatever the host does in those seconds weighs on every setting
alike (loaded in turn, a setting's CPU per quote moved ±30% from one round to the next
on a busy host); the median of each setting's CPU per request is compared. Redis keys go
under a prefix of this run's own and are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.auth import TokenVerifier, issue_dev_token
from app.domain.access import Role
from app.metrics import Metrics
from app.middleware import RequestContextMiddleware
from app.rate_limits import RateLimitMiddleware, RateLimits
from app.sandbox.seed import CUSTOMER_ID
from app.settings import Settings
from bench.harness import (
    demo_database,
    free_port,
    on_api_loop,
    running_server,
    server_command,
    wait_ready,
)
from bench.wrk import Aim, Request, for_duration, installed_wrk

QUOTE_BODY = json.dumps({"years": 1, "items": [{"mailbox_id": "mbx-standard"}]})
NEVER_REFUSES = "1000000/second"
LIMITS = ("QUOTES", "ORDERS", "SANDBOX", "WEBHOOKS", "FAILED_AUTH")
TARGET = 1.10
SECRET_FOR_MICRO = "bench-only-secret-for-the-limiter-alone-0123456789"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def settings_env(setting: str, prefix: str) -> dict[str, str]:
    env = {f"RATE_LIMIT_{name}": NEVER_REFUSES for name in LIMITS}
    env["RATE_LIMITS_ENABLED"] = "false" if setting == "off" else "true"
    # Three servers side by side, each with two pools (SQLAlchemy's and /bench/asyncpg's):
    # 10 connections each keep them within PostgreSQL's default 100.
    env["DATABASE_POOL_SIZE"] = "10"
    if setting == "redis":
        env |= {"REDIS_URL": REDIS_URL, "RATE_LIMIT_KEY_PREFIX": prefix}
    return env


def quote_request(token: str) -> Request:
    """The quote every server is loaded with: the demo customer's mailbox, again and again."""
    headers = (("Content-Type", "application/json"), ("Authorization", f"Bearer {token}"))
    return Request("POST", "/v1/quotes", QUOTE_BODY.encode(), headers)


def check(base: str, token: str, setting: str) -> None:
    answer = httpx.post(
        f"{base}/v1/quotes",
        content=QUOTE_BODY,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        timeout=10,
    )
    if answer.status_code != 201:
        raise RuntimeError(f"{setting}: quote answered {answer.status_code}: {answer.text[:300]}")
    limited = "ratelimit" in answer.headers
    if limited != (setting != "off"):
        raise RuntimeError(f"{setting}: RateLimit header {'present' if limited else 'absent'}")


# ---------------------------------------------------------------- the limiter alone


@dataclass
class LimiterAlone:
    """The request context, with the limiter of `setting` inside it (none when "off"),
    around an app that answers at once: what the limiter adds to a request, and no more."""

    app: ASGIApp
    limits: RateLimits
    metrics: Metrics
    scope: Scope  # a known caller's POST /v1/quotes

    @classmethod
    async def of(cls, setting: str, prefix: str) -> LimiterAlone:
        settings = Settings().model_copy(
            update={
                "auth_jwt_secret": SECRET_FOR_MICRO,
                **{f"rate_limit_{name.lower()}": NEVER_REFUSES for name in LIMITS},
                "redis_url": REDIS_URL if setting == "redis" else None,
                "rate_limit_key_prefix": prefix,
            }
        )
        tokens = TokenVerifier(settings)
        token = issue_dev_token(SECRET_FOR_MICRO, Role.CUSTOMER, CUSTOMER_ID)
        await tokens.verify(token)  # a caller's token is verified once per process
        metrics = Metrics()
        limits = RateLimits(settings, metrics)
        inner = (
            _answers_at_once
            if setting == "off"
            else RateLimitMiddleware(_answers_at_once, limits, tokens)
        )
        # Inside the request context, as the app installs it: the limiter's headers ride on it.
        app = RequestContextMiddleware(inner, metrics, settings.max_body_bytes)
        headers = [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"x")]
        scope = {"type": "http", "method": "POST", "path": "/v1/quotes", "headers": headers}
        return cls(app, limits, metrics, scope)

    async def request(self) -> None:
        await self.app(dict(self.scope), _no_body, _sink)

    def store_failures(self) -> float:
        return self.metrics.registry.get_sample_value("rate_limit_store_errors_total") or 0.0


async def _answers_at_once(_scope: Scope, _receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _sink(_message: Message) -> None:
    return None


async def _no_body() -> Message:
    return {"type": "http.request", "body": b""}


async def limiter_cpu_per_request(setting: str, prefix: str, calls: int) -> float:
    """The limiter's own CPU per limited request (µs), around an app that does nothing:
    the best of five runs, so a busy neighbour inflates it least."""
    alone = await LimiterAlone.of(setting, prefix)
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(calls):
            await alone.request()
            await asyncio.sleep(0)  # let what a request scheduled run, as a server would
        best = min(best, (time.process_time() - started) / calls * 1e6)
    await alone.limits.close()
    failed = alone.store_failures()
    if failed:
        # Served unlimited for 5 s after each failure: that is not the store's cost.
        print(f"  ({setting}: the store failed {failed:.0f} times, a busy machine? not measured)")
        return math.nan
    return best


def measure_limiter_alone(prefix: str, calls: int) -> dict[str, float]:
    costs = {}
    for setting in ("off", "in-process", "redis"):
        costs[setting] = on_api_loop(limiter_cpu_per_request(setting, prefix, calls))
    return costs


# ---------------------------------------------------------------- the run


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--calls", type=int, default=3000, help="calls per limiter-alone run")
    args = parser.parse_args()
    wrk = installed_wrk()
    store = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    store.ping()  # the Redis setting needs one: say so before anything starts
    prefix = f"pec-bench-{uuid.uuid4().hex[:12]}"
    secret = uuid.uuid4().hex * 2
    token = issue_dev_token(secret, Role.CUSTOMER, CUSTOMER_ID)
    settings = ("off", "in-process", "redis")
    cpu_per_request: dict[str, list[float]] = {setting: [] for setting in settings}
    try:
        alone = measure_limiter_alone(prefix, args.calls)
        print("the limiter alone (middleware around an app that does nothing, best of 5):")
        for setting, cost in alone.items():
            print(f"  {setting:<10} {cost:7.1f} µs CPU/request")
        print()
        with demo_database() as database, ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pec-rl-")))
            quote = quote_request(token)
            servers: dict[str, tuple[str, int]] = {}
            for setting in settings:
                port = free_port()
                env = {
                    **os.environ,
                    "DATABASE_URL": database.url,
                    "AUTH_JWT_SECRET": secret,
                    "LOG_LEVEL": "WARNING",
                    **settings_env(setting, prefix),
                }
                log = tmp / f"{setting}.log"
                server = stack.enter_context(running_server(server_command(port), env, log))
                wait_ready(f"http://127.0.0.1:{port}", server, log)
                servers[setting] = (f"http://127.0.0.1:{port}", server.pid)
            for setting, (base, _) in servers.items():
                check(base, token, setting)

            def aims(round_: int) -> list[Aim]:
                return [
                    Aim(base, pgid, quote, setting, tmp / f"round-{round_}" / setting)
                    for setting, (base, pgid) in servers.items()
                ]

            for_duration(wrk, aims(0), connections=args.connections, seconds=2, warmup=0)
            print(
                f"wrk -c{args.connections} -d{args.duration}s POST /v1/quotes on every server "
                f"at once, {args.rounds} rounds\n",
                flush=True,
            )
            for round_ in range(1, args.rounds + 1):
                loads = for_duration(
                    wrk, aims(round_), connections=args.connections, seconds=args.duration,
                    warmup=0,
                )  # fmt: skip
                for setting, found in zip(settings, loads, strict=True):
                    cpu_per_request[setting].append(found.server_cpu_us)
                    print(
                        f"  round {round_} {setting:<10} {found.rps:7,.0f} req/s "
                        f"{found.server_cpu_us:7,.0f} µs CPU/request {found.errors}",
                        flush=True,
                    )
    finally:
        keys = list(store.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            store.delete(*keys)
        store.close()
    off = statistics.median(cpu_per_request["off"])
    print(f"\n{'setting':<12}{'median µs CPU/quote':>22}{'vs off':>9}   target <= {TARGET:.2f}")
    met = True
    for setting in settings:
        median = statistics.median(cpu_per_request[setting])
        ratio = median / off
        verdict = "" if setting == "off" else ("met" if ratio <= TARGET else "NOT met")
        met &= setting == "off" or ratio <= TARGET
        print(f"{setting:<12}{median:>22,.0f}{ratio:>9.3f}   {verdict}")
    print(
        "\nadded by the limiter alone, against the median 'off' quote above: "
        + ", ".join(
            f"{setting} +{(alone[setting] - alone['off']) / off:.1%}"
            for setting in ("in-process", "redis")
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
