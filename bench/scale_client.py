"""What the scale run measures with: concurrent httpx calls that never raise, and the
CPU each process spent (from /proc, in nanoseconds: clock ticks are too coarse)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
Answer = tuple[int, bytes]  # status code (0: no answer), body


def process_cpu_seconds(
    server_pgid: int, database_name: str
) -> tuple[dict[int, float], dict[int, float]]:
    """On-CPU seconds per live process: the process group `server_pgid`, and the
    PostgreSQL backends serving `database_name` (their title names it)."""
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


async def post(
    client: httpx.AsyncClient, path: str, content: bytes, headers: dict[str, str]
) -> Answer:
    try:
        response = await client.post(path, content=content, headers=headers)
    except httpx.HTTPError as exc:
        return 0, repr(exc).encode()
    return response.status_code, response.content
