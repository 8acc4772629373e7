"""What every bench phase shares: a throw-away PostgreSQL database, one uvicorn worker in
its own process group (and its CPU), and the report's verdicts and versions."""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import uvicorn
from sqlalchemy.engine import make_url

from app.clock import system_clock
from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade_to_head
from app.sandbox.seed import seed_demo_data
from app.serving import EVENT_LOOP, UVICORN_CONFIG, uvicorn_flags

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 45.0


# ---------------------------------------------------------------- database


@dataclass
class BenchDatabase:
    admin_dsn: str
    name: str
    url: str  # SQLAlchemy URL (postgresql+asyncpg://…/pec_bench_…)
    server_version: str


async def create_database() -> BenchDatabase:
    server = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER))
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"pec_bench_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        server_version = await connection.fetchval("SHOW server_version")
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    url = server.set(drivername="postgresql+asyncpg", database=name)
    return BenchDatabase(admin_dsn, name, url.render_as_string(hide_password=False), server_version)


async def drop_database(database: BenchDatabase) -> None:
    connection = await asyncpg.connect(database.admin_dsn, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await connection.close()


async def seed(url: str) -> None:
    engine = make_engine(url)
    try:
        await seed_demo_data(make_sessionmaker(engine), system_clock())
    finally:
        await engine.dispose()


@contextmanager
def demo_database() -> Iterator[BenchDatabase]:
    """A fresh database, migrated and seeded with the demo; dropped on the way out."""
    database = asyncio.run(create_database())
    try:
        print(f"database: {database.name} (PostgreSQL {database.server_version})", flush=True)
        upgrade_to_head(database.url)
        asyncio.run(seed(database.url))
        yield database
    finally:
        asyncio.run(drop_database(database))
        print(f"\ndatabase {database.name} dropped")


# ---------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


T = TypeVar("T")
PRODUCT_APP = "bench.bench_app:create_bench_app"
BARE_APP = "bench.bare_app:create_bare_app"


def on_api_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on the event loop uvicorn builds for the api (app/serving.py): what an
    in-process measurement of a request should pay for its I/O."""
    loop_factory = uvicorn.Config("app.main:create_app", **UVICORN_CONFIG).get_loop_factory()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(main)


def server_command(port: int, factory: str = PRODUCT_APP, loop: str = EVENT_LOOP) -> list[str]:
    """One uvicorn worker as production runs it (app/serving.py), started by this
    interpreter: no `uv run` process in the group, whatever installed uv."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        factory,
        "--factory",
        *uvicorn_flags(loop),
        "--workers",
        "1",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def group_cpu_seconds(pgid: int) -> float:
    """User+system CPU of every live process in the server's process group (Linux)."""
    return _cpu_seconds(lambda _name, fields: int(fields[2]) == pgid)


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by this machine's PostgreSQL processes (its backends and
    its own workers): a request's share of the database, where it runs on loopback. A
    backend that exits in between takes its count with it; the app's pool keeps its own."""
    return _cpu_seconds(lambda name, _fields: name == "postgres")


def stolen_cpu_seconds() -> float:
    """CPU time the hypervisor gave to other guests while this machine's CPUs wanted it,
    all CPUs together (`steal` in /proc/stat; 0 where the kernel does not count it)."""
    with suppress(OSError):
        for line in Path("/proc/stat").read_text().splitlines():
            fields = line.split()
            if fields[0] == "cpu" and len(fields) > 8:
                return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def _cpu_seconds(counted: Callable[[str, list[str]], bool]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        name, _, rest = text.rpartition(")")
        # After "(comm)": state ppid pgrp ... utime(12th) stime(13th)
        fields = rest.split()
        if counted(name.partition("(")[2], fields):
            total += int(fields[11]) + int(fields[12])
    return total / ticks


@contextmanager
def running_server(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start the server in its own process group; always stop that group on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_group(process)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole group (uv and uvicorn), then SIGKILL whatever is left after 10 s."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (process.poll() is None or _group_alive(process.pid)):
        time.sleep(0.1)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


def wait_ready(
    base: str, process: subprocess.Popen[bytes], log: Path, path: str = "/readyz"
) -> None:
    """Poll `path` until it answers 200; the server's log if it exits first."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()[-2000:]}")
        try:
            response = httpx.get(f"{base}{path}", timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.25)
    raise RuntimeError(f"{path} not ready in {READY_TIMEOUT_SECONDS:.0f} s ({last})")


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:<port>
    pgid: int  # the server's process group: its CPU is what the targets compare
    log: Path

    def log_tail(self, chars: int = 1500) -> str:
        return self.log.read_text(errors="replace").strip()[-chars:]


@contextmanager
def serving(
    env: dict[str, str],
    directory: Path,
    factory: str = PRODUCT_APP,
    ready: str = "/readyz",
    loop: str = EVENT_LOOP,
) -> Iterator[Served]:
    """One uvicorn worker running `factory` on a free port, ready; stopped on the way out."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = directory / f"server-{port}.log"
    with running_server(server_command(port, factory, loop), env, log) as process:
        wait_ready(base, process, log, ready)
        yield Served(base, process.pid, log)


# ---------------------------------------------------------------- report


def verdict(met: bool) -> str:
    return "PASS" if met else "FAIL"


def print_versions(server_version: str) -> None:
    """The interpreter, the packages on the request path, PostgreSQL and the CPU count."""
    packages = ("fastapi", "pydantic", "sqlalchemy", "asyncpg", "uvicorn", "httptools")
    print(f"python {platform.python_version()} ({platform.python_implementation()})", end="")
    print(f", event loop {EVENT_LOOP}", end="")
    for package in packages:
        print(f", {package} {version(package)}", end="")
    print(f", PostgreSQL {server_version}, CPUs {os.cpu_count()}")
