"""The garbage collector and a long-running server: keep startup's heap out of every collection.

After startup a worker holds ~160,000 tracked objects (FastAPI's routes and models, pydantic
validators, SQLAlchemy's mappers, the OpenAPI document) that live as long as the process. Under
load, objects alive across an `await` (64 connections' requests in flight) survive the young
generations and pile up in the oldest one until CPython runs a full collection, which walks all
of them: ~90 ms of CPU on these machines, every few seconds, with the event loop stopped — the
p99 stall at 64 connections (issue 10: p50 20 ms, p99 204 ms). `gc.freeze()` moves startup's
objects into the permanent generation, which no collection walks: a full collection then walks
only what was allocated since (~2 ms). Cycles among the frozen objects are never collected,
which is what we want for objects that live as long as the process.

The youngest generation is also collected less often: every 10,000 net allocations instead of
CPython's 700. At 700, a collection came every few requests and promoted whatever 64
in-flight requests held at that instant; those promotions triggered a full collection about
once a second under load (5-18 ms each on these machines, the event loop stopped). At 10,000
the requests' objects are mostly freed (by reference counting) before a collection sees them:
one full collection in a whole `make bench --quick` run instead of ~55, and GET
/bench/trivial's p99/p50 at 64 connections 2.05 instead of 3.06 (same run length). The
young generation's own collections stay short: it only ever holds what is alive now.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 10_000  # CPython's default: 700
_thresholds_before: list[tuple[int, int, int]] = []  # put back by unfreeze_heap


def freeze_startup_heap() -> None:
    """Collect startup's garbage, then exempt everything still alive from future collections;
    young objects are collected less often from then on."""
    gc.collect()
    gc.freeze()
    before = gc.get_threshold()
    _thresholds_before.append(before)
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *before[1:])


def unfreeze_heap() -> None:
    """Hand the frozen objects back to the collector, at its earlier pace (on shutdown: a test
    may build many apps)."""
    gc.unfreeze()
    if _thresholds_before:
        gc.set_threshold(*_thresholds_before.pop())
