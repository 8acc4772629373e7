"""The bench app with a server-side timeline, to find where a replay's tail comes from.

uv run python -m bench.low_load --timeline

wrk reports what the client saw, as one histogram per run: it can't tell whether a p99
came from the first requests of a replay, from one pause that held every request in
flight, or from a steady spread. This app records each request's start and end as the
app saw them (its outermost layer: uvicorn's parsing and the network are outside) and
each garbage collection's pause, in memory, and GET /bench/timeline hands them over and
clears them. Recording costs two clock reads and an append per request; only this
factory does it, never the product's.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.bench_app import create_bench_app

TIMELINE_PATH = "/bench/timeline"
FIRST = 8  # the first requests of a share shown one by one: one per connection at 8

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]


@dataclass(slots=True)
class Timeline:
    """Requests as (start ns, end ns, path); collections as (start ns, pause ns, generation)."""

    requests: list[tuple[int, int, str]] = field(default_factory=list)
    collections: list[tuple[int, int, int]] = field(default_factory=list)

    def handover(self) -> dict[str, list[Any]]:
        taken: dict[str, list[Any]] = {"requests": self.requests, "collections": self.collections}
        self.requests, self.collections = [], []
        return taken


def create_timeline_app() -> ASGIApp:
    app = create_bench_app()
    timeline = Timeline()
    clock = time.perf_counter_ns
    started = [0]

    def on_collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = clock()
        else:
            timeline.collections.append((started[0], clock() - started[0], info["generation"]))

    gc.callbacks.append(on_collection)

    @app.get(TIMELINE_PATH, include_in_schema=False)
    async def handover() -> dict[str, list[Any]]:
        return timeline.handover()

    async def timed(
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start = clock()
        try:
            await app(scope, receive, send)
        finally:
            timeline.requests.append((start, clock(), scope["path"]))

    return timed


def share_summary(
    requests: Sequence[Sequence[Any]], collections: Sequence[Sequence[int]], path: str
) -> str:
    """One share's requests to `path` as the server saw them: p50 and p99 (ms), the first
    requests' times, and every collection that paused the server meanwhile."""
    share = sorted((int(start), int(end)) for start, end, seen in requests if seen == path)
    if not share:
        return "no requests"
    times = [(end - start) / 1e6 for start, end in share]
    ordered = sorted(times)
    p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
    began, ended = share[0][0], max(end for _, end in share)
    pauses = [
        f"gen{generation} {pause / 1e6:.1f} ms at {(at - began) / 1e6:.0f} ms"
        for at, pause, generation in collections
        if began <= at <= ended
    ]
    first = " ".join(f"{value:.1f}" for value in times[:FIRST])
    return (
        f"server p50 {p50:.2f} p99 {p99:.2f} ms; first {min(FIRST, len(times))}: {first}; "
        f"collections: {', '.join(pauses) or 'none'}"
    )
