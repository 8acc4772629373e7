"""Measuring a benchmark's phase: requests `concurrency` at a time, their latencies, and
the CPU the server, this client, PostgreSQL and the rest of the machine spent on them."""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
Answer = tuple[int, bytes]  # status code (0: no answer), body


# ---------------------------------------------------------------- CPU


def process_cpu_seconds(
    server_pgid: int, database_name: str
) -> tuple[dict[int, float], dict[int, float]]:
    """On-CPU seconds per live process: the server's process group, and the PostgreSQL
    backends serving `database_name` (their title names it). From /proc/<pid>/schedstat,
    in nanoseconds: clock ticks are too coarse for a 0.1 s phase over 40 backends."""
    server: dict[int, float] = {}
    postgres: dict[int, float] = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
            fields = stat.rpartition(")")[2].split()  # after "(comm)": state ppid pgrp …
            if int(fields[2]) == server_pgid:
                server[int(proc.name)] = _on_cpu(proc)
            elif stat.partition(" (")[2].startswith("postgres"):
                title = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if f" {database_name} " in title:
                    postgres[int(proc.name)] = _on_cpu(proc)
        except (OSError, ValueError, IndexError):
            continue
    return server, postgres


def _on_cpu(proc: Path) -> float:
    return int((proc / "schedstat").read_text().split()[0]) / 1e9


def machine_busy_seconds() -> float:
    """CPU seconds every core spent on anything but idle/iowait since boot (/proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used in between by the processes alive at the end (new ones count from 0)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass(frozen=True)
class CpuUse:
    server: float  # the uvicorn process group
    client: float  # this process: the httpx (or asyncpg) client
    postgres: float  # the backends of the bench database
    machine: float  # every core, anything busy

    @property
    def other(self) -> float:
        """Everything else: other users' processes, PostgreSQL's shared processes, kernel."""
        return max(0.0, self.machine - self.server - self.client - self.postgres)


@dataclass(frozen=True)
class CpuSnapshot:
    server: dict[int, float]
    client: float
    postgres: dict[int, float]
    machine: float

    @classmethod
    def take(cls, server_pgid: int, database_name: str) -> CpuSnapshot:
        server, postgres = process_cpu_seconds(server_pgid, database_name)
        return cls(server, time.process_time(), postgres, machine_busy_seconds())

    def since(self, before: CpuSnapshot) -> CpuUse:
        return CpuUse(
            _used(before.server, self.server),
            self.client - before.client,
            _used(before.postgres, self.postgres),
            self.machine - before.machine,
        )


# ---------------------------------------------------------------- phases


@dataclass
class Phase:
    label: str
    seconds: float
    latencies: list[float]
    cpu: CpuUse
    answers: Counter[Any] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, int(fraction * len(ordered) + 0.999999) - 1))
        return ordered[index] * 1000

    def per_op_us(self, seconds: float) -> float:
        return seconds / max(self.count, 1) * 1e6


async def run_concurrently(
    count: int, concurrency: int, call: Callable[[int], Awaitable[T]]
) -> tuple[list[T], list[float], float]:
    """`call(i)` for i in range(count), `concurrency` at a time: results, latencies, seconds."""
    results: list[Any] = [None] * count
    latencies = [0.0] * count
    indices = iter(range(count))  # shared: each worker takes the next index

    async def worker() -> None:
        for i in indices:
            started = time.perf_counter()
            results[i] = await call(i)
            latencies[i] = time.perf_counter() - started

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return results, latencies, time.perf_counter() - started


async def timed_phase(
    label: str,
    count: int,
    concurrency: int,
    call: Callable[[int], Awaitable[T]],
    meter: Callable[[], CpuSnapshot],
) -> tuple[list[T], Phase]:
    before = meter()
    results, latencies, seconds = await run_concurrently(count, concurrency, call)
    cpu = meter().since(before)
    return results, Phase(label, seconds, latencies, cpu)


async def post(
    client: httpx.AsyncClient, path: str, content: bytes, headers: dict[str, str]
) -> Answer:
    try:
        response = await client.post(path, content=content, headers=headers)
    except httpx.HTTPError as exc:
        return 0, repr(exc).encode()
    return response.status_code, response.content


def tally(answers: Sequence[Answer], expected: int) -> Counter[Any]:
    """The status codes seen; prints a few unexpected answers."""
    unexpected = [(status, body) for status, body in answers if status != expected]
    for status, body in unexpected[:3]:
        print(f"    unexpected {status}: {body[:300].decode(errors='replace')}")
    return Counter(status for status, _ in answers)
