"""Two checkouts of the code, side by side over HTTP: server CPU per quote and per one-query
floor request on each, in interleaved rounds, with the quote/floor ratio per round.

    uv run python -m bench.compare_trees OLD_TREE NEW_TREE [--rounds 6] [--duration 3]

Each tree is a checkout with its own environment (`git worktree add /tmp/old <commit>`
then `sh scripts/uv.sh sync --frozen` in it). One throw-away database seeded with the
demo; one uvicorn server per tree, as `make bench` runs the product (rate limits that run
but never refuse, logs at WARNING), both on that database. Round after round, each
tree's server is loaded at the same time, each by its own wrk at --connections: first the
floor (GET /bench/asyncpg), then the quote `make bench` sends (the demo customer's
mailbox, again and again). A busy neighbour on these shared cores weighs on both trees
alike, in the same seconds, which `make bench` (one tree, minutes apart between runs)
can't offer: there the same code's quote ratio moved between
2.47 and 2.94 in two runs ten minutes apart (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.auth import issue_dev_token
from app.domain.access import Role
from app.sandbox.seed import CUSTOMER_ID
from app.serving import UVICORN_FLAGS
from bench.harness import demo_database, free_port, stop_group, wait_ready
from bench.rate_limit_cost import LIMITS, NEVER_REFUSES, quote_request
from bench.wrk import Aim, Request, for_duration, installed_wrk

FLOOR_PATH = "/bench/asyncpg"


@dataclass
class Tree:
    path: Path
    base: str = ""
    pgid: int = 0
    floor: list[float] = field(default_factory=list)  # µs of server CPU per request
    quote: list[float] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [q / f for q, f in zip(self.quote, self.floor, strict=True)]


def server_env(database_url: str, jwt_secret: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env |= {
        "DATABASE_URL": database_url,
        "AUTH_JWT_SECRET": jwt_secret,
        "SANDBOX": "false",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMITS_ENABLED": "true",
        "DATABASE_POOL_SIZE": "10",  # two servers, two pools each: within max_connections
    }
    return env | {f"RATE_LIMIT_{name}": NEVER_REFUSES for name in LIMITS}


@contextmanager
def serving(tree: Tree, env: dict[str, str], scratch: Path) -> Iterator[None]:
    """The tree's own interpreter and code, one uvicorn worker, as `make bench` starts it."""
    python = tree.path / ".venv" / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{tree.path}: no .venv (run `sh scripts/uv.sh sync --frozen` there)")
    port = free_port()
    log = scratch / f"server-{port}.log"
    command = [str(python), "-m", "uvicorn", "bench.bench_app:create_bench_app", "--factory",
               *UVICORN_FLAGS, "--workers", "1",
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=tree.path, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        tree.base, tree.pgid = f"http://127.0.0.1:{port}", process.pid
        wait_ready(tree.base, process, log)
        yield
    finally:
        stop_group(process)


def figures(tree: Tree, index: int | None = None) -> str:
    """One round's figures (`index`), or the medians of all of them."""

    def pick(values: list[float]) -> float:
        return statistics.median(values) if index is None else values[index]

    floor, quote, ratio = pick(tree.floor), pick(tree.quote), pick(tree.ratios())
    return f"floor {floor:5.0f} µs, quote {quote:5.0f} µs, ratio {ratio:.2f}"


def cpu_per_request(
    wrk: str, trees: list[Tree], request: Request, scratch: Path, args: argparse.Namespace
) -> list[float]:
    """Each tree's server CPU per `request`, every tree loaded at once after a second of
    the same."""
    aims = [
        Aim(tree.base, tree.pgid, request, str(tree.path), scratch / f"tree-{number}")
        for number, tree in enumerate(trees)
    ]
    loads = for_duration(wrk, aims, connections=args.connections, seconds=args.duration, warmup=1)
    for tree, load in zip(trees, loads, strict=True):
        if load.errors:
            raise SystemExit(f"{tree.path} {request.path}: {load.errors}")
    return [load.server_cpu_us for load in loads]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("trees", nargs=2, type=Path, help="two checkouts, each with its .venv")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--duration", type=int, default=3, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    wrk = installed_wrk()
    trees = [Tree(path.resolve()) for path in args.trees]
    jwt_secret = secrets.token_urlsafe(32)
    token = issue_dev_token(jwt_secret, Role.CUSTOMER, CUSTOMER_ID)
    with demo_database() as database, tempfile.TemporaryDirectory() as scratch, ExitStack() as up:
        directory = Path(scratch)
        quote = quote_request(token)
        floor = Request("GET", FLOOR_PATH, headers=(("Authorization", f"Bearer {token}"),))
        env = server_env(database.url, jwt_secret)
        for tree in trees:
            up.enter_context(serving(tree, env, directory))
        for number in range(1, args.rounds + 1):
            floors = cpu_per_request(wrk, trees, floor, directory, args)
            quotes = cpu_per_request(wrk, trees, quote, directory, args)
            for tree, floor_us, quote_us in zip(trees, floors, quotes, strict=True):
                tree.floor.append(floor_us)
                tree.quote.append(quote_us)
                print(f"round {number}  {tree.path}: {figures(tree, -1)}", flush=True)
    print("\nmedians (server CPU per request; the ratio is the median of the rounds' ratios)")
    for tree in trees:
        print(f"  {tree.path}: {figures(tree)}")


if __name__ == "__main__":
    main()
