"""The instructions the rate limiter adds to one request, counted by valgrind's callgrind:
a count a busy host can't move, to compare two versions of the limiter by (issue 10).

    sh scripts/uv.sh run python -m bench.limiter_instructions [--calls 5000]

The limiter-alone loop of `bench.rate_limit_cost` (a known caller's POST /v1/quotes
through the request context and the limiter, around an app that answers at once) runs in
a child under callgrind, twice per setting: `--warmup` calls, then `--warmup` + `--calls`.
The difference over `--calls` is one request's instructions, with start-up and warm-up
cancelled out. PYTHONHASHSEED is fixed: a dict's layout, and so its probes, move with
the seed (~1,000 instructions a request). Redis is not counted: its cost is the round
trip, which instructions don't see. About a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys

from bench.rate_limit_cost import LimiterAlone

SETTINGS = ("off", "in-process")
COLLECTED = re.compile(rb"Collected : (\d+)")


async def _requests(setting: str, calls: int) -> None:
    alone = await LimiterAlone.of(setting, "pec-bench-instructions")
    for _ in range(calls):
        await alone.request()
    await alone.limits.close()


def instructions(setting: str, calls: int) -> int:
    """All the instructions of a child process that makes `calls` requests."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    child = [sys.executable, "-m", "bench.limiter_instructions", "--child", setting]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [*command, *child, "--calls", str(calls)], env=env, capture_output=True, check=True
    )
    found = COLLECTED.search(done.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no count: {done.stderr[-500:]!r}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000, help="requests counted")
    parser.add_argument("--warmup", type=int, default=200, help="requests not counted")
    parser.add_argument("--child", choices=SETTINGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_requests(args.child, args.calls))
        return 0
    per_request = {}
    for setting in SETTINGS:
        warm = instructions(setting, args.warmup)
        counted = instructions(setting, args.warmup + args.calls)
        per_request[setting] = (counted - warm) // args.calls
        print(f"{setting:<11} {per_request[setting]:>8,} instructions/request")
    print(f"the limiter {per_request['in-process'] - per_request['off']:>8,} instructions/request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
