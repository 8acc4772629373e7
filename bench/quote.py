"""Quote performance against docs/performance.md's targets: prints numbers, asserts nothing.

uv run python -m bench.quote [--duration 10] [--connections 64]

1. Domain: `quote_renewal` calls per second on one core (1 and 10 mailboxes).
2. HTTP: a throw-away PostgreSQL database (TEST_DATABASE_URL's server), migrated and
   seeded with the demo, ONE uvicorn worker running `bench.bench_app`, loaded by `wrk`.
3. A table of req/s and latencies, the ratios the targets use, and the versions.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app.auth import issue_dev_token
from app.domain.access import Role
from app.domain.calendar import italian_date
from app.domain.mailbox import Mailbox
from app.domain.quote import RenewalItem, RenewalRequest, quote_renewal
from app.sandbox.demo_catalog import demo_price_list
from app.sandbox.seed import (
    CUSTOMER_ID,
    DEMO_MAILBOXES,
    DemoMailbox,
    demo_mailbox,
    demo_promotions,
)
from bench.harness import (
    BenchDatabase,
    demo_database,
    free_port,
    group_cpu_seconds,
    print_versions,
    running_server,
    server_command,
    verdict,
    wait_ready,
)

FIXED_NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
QUOTE_BODY = {"years": 1, "items": [{"mailbox_id": "mbx-standard"}]}
WARMUP_SECONDS = 2

# Targets from docs/performance.md.
PLANS_VS_TRIVIAL = 0.80
QUOTES_VS_ASYNCPG = 0.50
QUOTES_P99_MS = 25.0
DOMAIN_ONE_PER_S = 50_000
DOMAIN_TEN_PER_S = 8_000


# ---------------------------------------------------------------- domain


def _mailbox(demo: DemoMailbox, now: datetime) -> Mailbox:
    return demo_mailbox(demo, italian_date(now))


def best_rate(call: Callable[[], object], repeats: int = 7) -> float:
    """Calls per second, timeit-style: the best of `repeats` runs of ~0.2 s each."""
    timer = timeit.Timer(call)
    number, _ = timer.autorange()
    return number / min(timer.repeat(repeat=repeats, number=number))


def domain_rates() -> tuple[float, float]:
    now = FIXED_NOW
    catalog = demo_price_list(promotions=demo_promotions(italian_date(now)))
    # Ten mailboxes of one account's worth of rules: every demo mailbox but another
    # account's (plain, upgrades/downgrades, promotion, grace, deleted, suspended...).
    ten = [demo for demo in DEMO_MAILBOXES if demo.id != "mbx-bianchi"][:10]
    if len(ten) != 10:
        raise RuntimeError("the demo has fewer than 10 mailboxes")
    mailboxes = {demo.id: _mailbox(demo, now) for demo in DEMO_MAILBOXES}
    one = RenewalRequest(years=1, items=(RenewalItem("mbx-standard"),))
    many = RenewalRequest(years=1, items=tuple(RenewalItem(demo.id) for demo in ten))
    return (
        best_rate(lambda: quote_renewal(one, mailboxes, catalog, now)),
        best_rate(lambda: quote_renewal(many, mailboxes, catalog, now)),
    )


# ---------------------------------------------------------------- wrk


@dataclass(frozen=True)
class Endpoint:
    label: str
    method: str
    path: str
    expected_status: int
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: str  # "" when none
    server_cpu_us: float  # server process CPU per request


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if match is None:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> tuple[int, float, float, float, str]:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"could not parse wrk's output:\n{output}")
    errors = [
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith(("Non-2xx", "Socket errors"))
    ]
    return (
        int(total.group(1)),
        float(rps.group(1)),
        _ms(p50.group(1)),
        _ms(p99.group(1)),
        "; ".join(errors),
    )


def lua_script(endpoint: Endpoint, directory: Path) -> Path:
    lines = [f"wrk.method = {json.dumps(endpoint.method)}"]
    if endpoint.body is not None:
        lines.append(f"wrk.body = {json.dumps(endpoint.body)}")
    for name, value in endpoint.headers:
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    path = directory / f"{endpoint.label.replace('/', '_').replace(' ', '_')}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk_command(
    wrk: str, url: str, script: Path, connections: int, seconds: int, latency: bool
) -> list[str]:
    command = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script)]
    return [*command, "--latency", url] if latency else [*command, url]


def run_wrk(command: list[str], seconds: int) -> str:
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    return completed.stdout


def check_endpoint(base: str, endpoint: Endpoint) -> None:
    response = httpx.request(
        endpoint.method,
        base + endpoint.path,
        content=endpoint.body,
        headers=dict(endpoint.headers),
        timeout=10,
    )
    if response.status_code != endpoint.expected_status:
        raise RuntimeError(
            f"{endpoint.method} {endpoint.path} answered {response.status_code}, "
            f"expected {endpoint.expected_status}: {response.text[:500]}"
        )


def measure(
    wrk: str, base: str, endpoint: Endpoint, args: argparse.Namespace, scripts: Path, pgid: int
) -> WrkResult:
    check_endpoint(base, endpoint)
    script = lua_script(endpoint, scripts)
    url = base + endpoint.path
    run_wrk(wrk_command(wrk, url, script, args.connections, WARMUP_SECONDS, False), WARMUP_SECONDS)
    cpu_before = group_cpu_seconds(pgid)
    output = run_wrk(
        wrk_command(wrk, url, script, args.connections, args.duration, True), args.duration
    )
    cpu = group_cpu_seconds(pgid) - cpu_before
    requests, rps, p50, p99, errors = parse_wrk(output)
    return WrkResult(requests, rps, p50, p99, errors, cpu / max(requests, 1) * 1e6)


# ---------------------------------------------------------------- the run


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    args = parser.parse_args()
    if args.duration < 1 or args.connections < 2:
        parser.error("--duration must be >= 1 and --connections >= 2")
    return args


def measure_domain() -> tuple[float, float]:
    print("domain: quote_renewal, demo price list, fixed now, best of 7 ...", flush=True)
    one_rate, ten_rate = domain_rates()
    print(f"  1 mailbox : {one_rate:>10,.0f} quotes/s  ({1e6 / one_rate:6.1f} µs each)")
    print(f"  10 mailbox: {ten_rate:>10,.0f} quotes/s  ({1e6 / ten_rate:6.1f} µs each)\n")
    return one_rate, ten_rate


def endpoints(token: str) -> tuple[Endpoint, ...]:
    """The two floors (FastAPI alone, one raw asyncpg read) and the two product routes."""
    return (
        Endpoint("GET /bench/trivial", "GET", "/bench/trivial", 200),
        Endpoint("GET /v1/plans", "GET", "/v1/plans", 200),
        Endpoint("GET /bench/asyncpg", "GET", "/bench/asyncpg", 200),
        Endpoint(
            "POST /v1/quotes",
            "POST",
            "/v1/quotes",
            201,
            json.dumps(QUOTE_BODY),
            (("Content-Type", "application/json"), ("Authorization", f"Bearer {token}")),
        ),
    )


def measure_http(
    wrk: str, database: BenchDatabase, args: argparse.Namespace
) -> tuple[dict[str, WrkResult], str]:
    """Every endpoint under wrk against one uvicorn worker: the results, the server's log."""
    secret = secrets.token_urlsafe(32)
    token = issue_dev_token(secret, Role.CUSTOMER, CUSTOMER_ID)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "AUTH_JWT_SECRET": secret,
        "LOG_LEVEL": "WARNING",
    }
    command = server_command(port)
    results: dict[str, WrkResult] = {}
    with tempfile.TemporaryDirectory(prefix="pec-bench-") as tmp:
        scripts = Path(tmp)
        log = scripts / "server.log"
        print(f"server: {shlex.join(command)}")
        print(
            f"load: wrk -t2 -c{args.connections} -d{args.duration}s --latency "
            f"(after a {WARMUP_SECONDS} s warm-up per endpoint)\n",
            flush=True,
        )
        with running_server(command, env, log) as server:
            wait_ready(base, server, log)
            for endpoint in endpoints(token):
                print(f"  {endpoint.label} ...", flush=True)
                results[endpoint.label] = measure(wrk, base, endpoint, args, scripts, server.pid)
            return results, log.read_text().strip()


# ---------------------------------------------------------------- report


def print_results(results: dict[str, WrkResult]) -> None:
    print(f"{'endpoint':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'srv CPU µs/req':>16}  errors")
    for label, result in results.items():
        print(
            f"{label:<22}{result.rps:>10,.0f}{result.p50_ms:>9.2f}{result.p99_ms:>9.2f}"
            f"{result.server_cpu_us:>16.0f}  {result.errors or '-'}"
        )


def print_targets(
    results: dict[str, WrkResult], connections: int, one_rate: float, ten_rate: float
) -> None:
    trivial = results["GET /bench/trivial"]
    plans = results["GET /v1/plans"]
    raw = results["GET /bench/asyncpg"]
    quotes = results["POST /v1/quotes"]
    plans_ratio = plans.rps / trivial.rps
    quotes_ratio = quotes.rps / raw.rps
    print("\ntargets (docs/performance.md)")
    rows = (
        ("plans / trivial req/s", f"{plans_ratio:.2f}", f">= {PLANS_VS_TRIVIAL:.2f}",
         plans_ratio >= PLANS_VS_TRIVIAL),
        ("quotes / asyncpg req/s", f"{quotes_ratio:.2f}", f">= {QUOTES_VS_ASYNCPG:.2f}",
         quotes_ratio >= QUOTES_VS_ASYNCPG),
        (f"quotes p99 @ {connections} conns", f"{quotes.p99_ms:.2f} ms",
         f"<= {QUOTES_P99_MS:.0f} ms", quotes.p99_ms <= QUOTES_P99_MS),
        ("domain 1-mailbox quotes/s", f"{one_rate:,.0f}", f">= {DOMAIN_ONE_PER_S:,}",
         one_rate >= DOMAIN_ONE_PER_S),
        ("domain 10-mailbox quotes/s", f"{ten_rate:,.0f}", f">= {DOMAIN_TEN_PER_S:,}",
         ten_rate >= DOMAIN_TEN_PER_S),
    )  # fmt: skip
    for name, value, target, met in rows:
        print(f"  {name:<30}{value:>12}  {target:<12}{verdict(met)}")


def main() -> int:
    args = parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "wrk is not installed: install it (Debian/Ubuntu: `apt-get install -y wrk`) "
            "and run again.",
            file=sys.stderr,
        )
        return 2

    print(f"command: {shlex.join([sys.executable, '-m', 'bench.quote', *sys.argv[1:]])}")
    print(f"started: {datetime.now(UTC).isoformat(timespec='seconds')}\n")
    one_rate, ten_rate = measure_domain()
    with demo_database() as database:
        results, server_log = measure_http(wrk, database, args)

    print()
    print_results(results)
    print_targets(results, args.connections, one_rate, ten_rate)
    if any(result.errors for result in results.values()):
        print("\nWARNING: some runs had errors or non-2xx answers (see the table).")
    if server_log:
        print(f"\nserver log (tail):\n{server_log[-1500:]}")
    print()
    print_versions(database.server_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
