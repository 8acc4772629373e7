"""Connections opened together against a busy server: how long each waits for its first
answer, on the loop the api is served on (app/eager_accept.py) and on the stock ones.

    uv run python -m bench.accept_burst [--burst 64] [--busy 16] [--rounds 5]

One product server per loop, started as `make bench` starts it but for the loop, on one
throw-away database. In each round, wrk keeps `--busy` keep-alive connections loading
GET /bench/trivial for 3 s; one second in, `--burst` new connections open at once and
each sends one GET /bench/trivial. Printed per loop: the burst's time from connect to
answer (p50, p99 and max over every round's connections), and what the busy connections
got (req/s and p99: what the loop costs, and what the burst did to them).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from app.serving import EVENT_LOOP
from bench.harness import demo_database, serving
from bench.order_flow import Sizes
from bench.phases import Bench, Plan
from bench.wrk import installed_wrk, parse_wrk

PATH = "/bench/trivial"
# The loop the api is served on, and the two stock ones it is compared with.
LOOPS = {"served": EVENT_LOOP, "asyncio": "asyncio", "uvloop": "uvloop"}
BUSY_SECONDS, BURST_AFTER = 3, 1.0


async def _first_answer(host: str, port: int) -> float:
    """Seconds from this connection's connect to the end of its answer's head and body."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {PATH} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await reader.read()  # the server closes after its answer
    finally:
        writer.close()
    return time.perf_counter() - started


async def _burst(host: str, port: int, count: int) -> list[float]:
    return list(await asyncio.gather(*(_first_answer(host, port) for _ in range(count))))


def _round(wrk: str, base: str, burst: int, busy: int) -> tuple[list[float], float, float]:
    """The burst's latencies (s), and the busy connections' req/s and p99 (ms)."""
    command = [wrk, "-t1", f"-c{busy}", f"-d{BUSY_SECONDS}s", "--latency", base + PATH]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as load:
        time.sleep(BURST_AFTER)
        host, port = base.removeprefix("http://").split(":")
        latencies = asyncio.run(_burst(host, int(port), burst))
        output, _ = load.communicate(timeout=BUSY_SECONDS + 30)
    summary = parse_wrk(output)
    return latencies, summary.requests / summary.seconds, summary.p99_ms


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--burst", type=int, default=64, help="connections opened at once")
    parser.add_argument("--busy", type=int, default=16, help="keep-alive connections loading")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    wrk = installed_wrk()
    plan = Plan(1, 1, 0, args.busy, args.busy, Sizes(0, 0, 0, 0), ())
    with demo_database() as database, tempfile.TemporaryDirectory(prefix="pec-accept-") as tmp:
        bench = Bench(wrk, Path(tmp), database, plan)
        for label, loop in LOOPS.items():
            with serving(bench.server_env(), Path(tmp), loop=loop) as served:
                burst: list[float] = []
                rates, tails = [], []
                for _ in range(args.rounds):
                    latencies, rate, tail = _round(wrk, served.base, args.burst, args.busy)
                    burst += latencies
                    rates.append(rate)
                    tails.append(tail)
            ms = [seconds * 1000 for seconds in burst]
            print(
                f"{label:<8} burst of {args.burst} × {args.rounds}: first answer p50 "
                f"{statistics.median(ms):6.1f}  p99 {_percentile(ms, 0.99):6.1f}  max "
                f"{max(ms):6.1f} ms | {args.busy} busy connections: "
                f"{statistics.median(rates):,.0f} req/s, p99 {statistics.median(tails):.1f} ms",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
